-- Create a task, optionally put it on the backlog or assign it (with its task_assign message).
-- Options: id, assignTo ('' = none), from, backlog ('1'|'0'), eventText, state, priority,
--   createdAt; then the list: the record's hash fields as name, value pairs.
-- Returns {'ok', messageId|''} | {'missing_agent'} | {'terminal_agent', state}.
local o, fields = options()
local id, assignTo, from, state = o.id, o.assignTo, o.from, o.state
if assignTo ~= '' then
  if not agent_exists(assignTo) then return { 'missing_agent' } end
  local st = redis.call('HGET', K.agent(assignTo), 'state')
  if st and TERMINAL_AGENT[st] then return { 'terminal_agent', st } end
end
local key = K.task(id)
redis.call('HSET', key, unpack(ARGV, fields))
if assignTo ~= '' then
  state = 'assigned'
  redis.call('HSET', key, 'state', state, 'assignedTo', assignTo)
end
redis.call('ZADD', K.tasks, o.createdAt, id)
redis.call('SADD', K.tasksIn(state), id)
local band = PRIORITY_BAND[o.priority] or 2
if o.backlog == '1' then backlog_add(id, band) end
emit({ type = 'task.created', task = id, state = state, text = (o.backlog == '1' and 'on the backlog: ' or '') .. o.eventText })
local mid = ''
if assignTo ~= '' then
  mid = push_message(assignTo, { type = 'task_assign', taskId = id, from = from, priority = ({ 'urgent', 'high', 'normal', 'low' })[band + 1] }, band)
  emit({ type = 'task.assigned', task = id, agent = assignTo, from = from, text = o.eventText })
end
return { 'ok', mid }
