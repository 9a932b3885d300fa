-- Delete a task. Options: id, allowed (csv of the states it may be deleted in), eventType,
-- eventText. Returns {'ok', state} | {'illegal', state} | {'missing'}.
local o = options()
local id = o.id
local key = K.task(id)
local st = redis.call('HGET', key, 'state')
if not st then
  redis.call('ZREM', K.backlog, id)
  redis.call('ZREM', K.tasks, id)
  return { 'missing' }
end
if not csv_set(o.allowed)[st] then return { 'illegal', st } end
local assignee = redis.call('HGET', key, 'assignedTo')
if assignee and redis.call('HGET', K.agent(assignee), 'currentTask') == id then
  redis.call('HDEL', K.agent(assignee), 'currentTask')
end
touch_task(id)
redis.call('DEL', key)
redis.call('ZREM', K.backlog, id)
redis.call('ZREM', K.tasks, id)
redis.call('SREM', K.tasksIn(st), id)
emit({ type = o.eventType, task = id, prev = st, text = nz(o.eventText) })
return { 'ok', st }
