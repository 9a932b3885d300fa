-- Create a task, optionally put it on the backlog or assign it (with its task_assign message).
-- ARGV: now, id, assignTo ('' = none), from, backlog ('1'|'0'), eventText, state, priority,
--       createdAt, then the record's hash fields as name, value pairs.
-- Returns {'ok', messageId|''} | {'missing_agent'} | {'terminal_agent', state}.
local id, assignTo, from = ARGV[2], ARGV[3], ARGV[4]
local state, createdAt = ARGV[7], ARGV[9]
if assignTo ~= '' then
  if not agent_exists(assignTo) then return { 'missing_agent' } end
  local st = redis.call('HGET', K.agent(assignTo), 'state')
  if st and TERMINAL_AGENT[st] then return { 'terminal_agent', st } end
end
local key = K.task(id)
redis.call('HSET', key, unpack(ARGV, 10))
if assignTo ~= '' then
  state = 'assigned'
  redis.call('HSET', key, 'state', state, 'assignedTo', assignTo)
end
redis.call('ZADD', K.tasks, createdAt, id)
redis.call('SADD', K.tasksIn(state), id)
local band = PRIORITY_BAND[ARGV[8]] or 2
if ARGV[5] == '1' then backlog_add(id, band) end
emit({ type = 'task.created', task = id, state = state, text = (ARGV[5] == '1' and 'on the backlog: ' or '') .. ARGV[6] })
local mid = ''
if assignTo ~= '' then
  mid = push_message(assignTo, { type = 'task_assign', taskId = id, from = from, priority = ({ 'urgent', 'high', 'normal', 'low' })[band + 1] }, band)
  emit({ type = 'task.assigned', task = id, agent = assignTo, from = from, text = ARGV[6] })
end
return { 'ok', mid }
