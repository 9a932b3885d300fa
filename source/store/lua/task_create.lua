-- Create a task, optionally put it on the backlog or assign it (with its task_assign message).
-- ARGV: now, id, fields (JSON object), assignTo ('' = none), from, backlog ('1'|'0'), eventText.
-- Returns {'ok', messageId|''} | {'missing_agent'} | {'terminal_agent', state}.
local id, assignTo, from = ARGV[2], ARGV[4], ARGV[5]
local fields = cjson.decode(ARGV[3])
if assignTo ~= '' then
  if not agent_exists(assignTo) then return { 'missing_agent' } end
  local st = redis.call('HGET', P .. 'agent:' .. assignTo, 'state')
  if st and TERMINAL_AGENT[st] then return { 'terminal_agent', st } end
  fields.assignedTo = assignTo
  fields.state = 'assigned'
end
hset_table(P .. 'task:' .. id, fields)
redis.call('ZADD', P .. 'tasks', fields.createdAt, id)
redis.call('SADD', P .. 'tasks:' .. fields.state, id)
local band = PRIORITY_BAND[fields.priority] or 2
if ARGV[6] == '1' then backlog_add(id, band) end
emit({ type = 'task.created', task = id, state = fields.state, text = (ARGV[6] == '1' and 'on the backlog: ' or '') .. ARGV[7] })
local mid = ''
if assignTo ~= '' then
  mid = push_message(assignTo, { type = 'task_assign', taskId = id, from = from, priority = ({ 'urgent', 'high', 'normal', 'low' })[band + 1] }, band)
  emit({ type = 'task.assigned', task = id, agent = assignTo, from = from, text = ARGV[7] })
end
return { 'ok', mid }
