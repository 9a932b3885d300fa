-- Move a task to a new state if its current state allows it, with the side effects that belong
-- to the move, all in one step.
-- Options: id, to, allowedFrom (csv), set (JSON object of fields), del (csv of fields), assignTo
--   ('' = keep), from (sender of a task_assign), backlog ('add'|'remove'|''), eventType,
--   eventText, expectedAssignee ('' = any).
-- Returns {'ok', prevState, prevAssignee} | {'noop', state} | {'illegal', state} | {'missing'}
--       | {'missing_agent'} | {'terminal_agent', state} | {'not_owner', assignee}.
local o = options()
local id, to = o.id, o.to
local key = K.task(id)
local cur = redis.call('HGET', key, 'state')
if not cur then return { 'missing' } end
if cur == 'in_flight' then cur = 'running' end
local prevAssignee = redis.call('HGET', key, 'assignedTo') or ''
if cur == to and (to == 'completed' or to == 'failed' or to == 'cancelled') then return { 'noop', cur } end
if not csv_set(o.allowedFrom)[cur] then return { 'illegal', cur } end
if o.expectedAssignee ~= '' and prevAssignee ~= o.expectedAssignee then return { 'not_owner', prevAssignee } end
local assignTo = o.assignTo
if assignTo ~= '' then
  if not agent_exists(assignTo) then return { 'missing_agent' } end
  local st = redis.call('HGET', K.agent(assignTo), 'state')
  if st and TERMINAL_AGENT[st] then return { 'terminal_agent', st } end
end

local set = cjson.decode(o.set)
set.state = to
set.updatedAt = NOW
if assignTo ~= '' then set.assignedTo = assignTo end
hset_table(key, set)
hdel_csv(key, o.del)
move_task_state(id, cur, to)

local terminal = (to == 'completed' or to == 'failed' or to == 'cancelled')
if (terminal or to == 'pending' or assignTo ~= '') and prevAssignee ~= '' and prevAssignee ~= assignTo then
  redis.call('SREM', K.running(prevAssignee), id)
  redis.call('HDEL', key, 'claimToken')
  local akey = K.agent(prevAssignee)
  if redis.call('HGET', akey, 'currentTask') == id then redis.call('HDEL', akey, 'currentTask') end
end
if to == 'completed' and prevAssignee ~= '' and redis.call('EXISTS', K.agent(prevAssignee)) == 1 then
  redis.call('HINCRBY', K.agent(prevAssignee), 'tasksCompleted', 1)
end

local priority = redis.call('HGET', key, 'priority') or 'normal'
local band = PRIORITY_BAND[priority] or 2
if o.backlog == 'add' then
  backlog_add(id)
elseif o.backlog == 'remove' or terminal or assignTo ~= '' then
  redis.call('ZREM', K.backlog, id)
end
if terminal or assignTo ~= '' then redis.call('ZREM', K.delayed, id) end
if assignTo ~= '' then
  push_message(assignTo, { type = 'task_assign', taskId = id, from = o.from, priority = ({ 'urgent', 'high', 'normal', 'low' })[band + 1] }, band)
end
emit({ type = o.eventType, task = id, agent = nz(assignTo) or nz(prevAssignee), state = to, prev = cur, text = nz(o.eventText) })
return { 'ok', cur, prevAssignee }
