-- Delete a task. ARGV: now, id, allowedStates (csv), eventType, eventText.
-- Returns {'ok', state} | {'illegal', state} | {'missing'}.
local id = ARGV[2]
local key = K.task(id)
local st = redis.call('HGET', key, 'state')
if not st then
  redis.call('ZREM', K.backlog, id)
  redis.call('ZREM', K.tasks, id)
  return { 'missing' }
end
if not csv_set(ARGV[3])[st] then return { 'illegal', st } end
local assignee = redis.call('HGET', key, 'assignedTo')
if assignee and redis.call('HGET', K.agent(assignee), 'currentTask') == id then
  redis.call('HDEL', K.agent(assignee), 'currentTask')
end
touch_task(id)
redis.call('DEL', key)
redis.call('ZREM', K.backlog, id)
redis.call('ZREM', K.tasks, id)
redis.call('SREM', K.tasksIn(st), id)
emit({ type = ARGV[4], task = id, prev = st, text = nz(ARGV[5]) })
return { 'ok', st }
