-- End an attempt of a task (tt task complete / fail). Options: id, token ('' = operator),
-- outcome ('completed'|'failed'), text, delays (csv of retry delays in ms, by attempt),
-- expectedAssignee ('' = anyone: an agent without the attempt token must still be the assignee).
-- Returns {outcome} as finish_task names it.
local o = options()
local id = o.id
if o.expectedAssignee ~= '' and redis.call('HGET', K.task(id), 'assignedTo') ~= o.expectedAssignee then
  local st = redis.call('HGET', K.task(id), 'state')
  if st == 'completed' and o.outcome == 'completed' then return { 'noop' } end
  return { 'stale' }
end
return { finish_task(id, o.token, o.outcome, o.text, split_csv(o.delays)) }
