-- End an attempt of a task (tt task complete / fail). ARGV: now, id, token ('' = operator),
-- outcome ('completed'|'failed'), text, delays (csv of retry delays in ms, by attempt),
-- expectedAssignee ('' = anyone: an agent without the attempt token must still be the assignee).
-- Returns {outcome} as finish_task names it.
if ARGV[7] ~= '' and redis.call('HGET', K.task(ARGV[2]), 'assignedTo') ~= ARGV[7] then
  local st = redis.call('HGET', K.task(ARGV[2]), 'state')
  if st == 'completed' and ARGV[4] == 'completed' then return { 'noop' } end
  return { 'stale' }
end
return { finish_task(ARGV[2], ARGV[3], ARGV[4], ARGV[5], split_csv(ARGV[6])) }
