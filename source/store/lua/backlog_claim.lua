-- Assign backlog tasks to an agent, best priority first (or one named task).
-- Options: agent, taskId ('' = take from the head), max, from.
-- Returns {'ok', id1, id2, ...} | {'missing_agent'} | {'terminal_agent', state} | {'not_in_backlog'}.
local o = options()
local agent, want, max, from = o.agent, o.taskId, tonumber(o.max), o.from
if not agent_exists(agent) then return { 'missing_agent' } end
local ast = redis.call('HGET', K.agent(agent), 'state')
if ast and TERMINAL_AGENT[ast] then return { 'terminal_agent', ast } end
local out = { 'ok' }
local function claim(id)
  redis.call('ZREM', K.backlog, id)
  local key = K.task(id)
  local st = redis.call('HGET', key, 'state')
  if st ~= 'pending' then return false end
  redis.call('HSET', key, 'state', 'assigned', 'assignedTo', agent, 'updatedAt', NOW)
  move_task_state(id, 'pending', 'assigned')
  local priority = redis.call('HGET', key, 'priority') or 'normal'
  local band = PRIORITY_BAND[priority] or 2
  push_message(agent, { type = 'task_assign', taskId = id, from = from, priority = ({ 'urgent', 'high', 'normal', 'low' })[band + 1] }, band)
  emit({ type = 'backlog.claimed', task = id, agent = agent, from = from, state = 'assigned', prev = 'pending' })
  out[#out + 1] = id
  return true
end
if want ~= '' then
  if not redis.call('ZSCORE', K.backlog, want) then return { 'not_in_backlog' } end
  claim(want)
  return out
end
while #out - 1 < max do
  local head = redis.call('ZRANGE', K.backlog, 0, 0)
  if #head == 0 then break end
  claim(head[1])
end
return out
