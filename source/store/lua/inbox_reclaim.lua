-- Take one message out of a (dead) agent's inbox and put its work somewhere live.
-- Options: from (the agent), member (the exact inbox entry), to (an agent; '' = the backlog),
--   newTaskId and newTaskFields (JSON: the task a free-text message becomes on the backlog).
-- Returns {'ok', what} | {'gone'} | {'missing_agent'} | {'kept'}.
local o = options()
local from, member, to = o.from, o.member, o.to
if to ~= '' and not agent_exists(to) then return { 'missing_agent' } end
local ok, msg = pcall(cjson.decode, member)
if not ok or type(msg) ~= 'table' then msg = { type = 'unreadable' } end
if to == '' and msg.type ~= 'task_assign' and msg.type ~= 'task' then return { 'kept' } end
if redis.call('ZREM', K.inbox(from), member) == 0 then return { 'gone' } end
if to ~= '' then
  local band = PRIORITY_BAND[msg.priority or 'normal'] or 2
  msg.id = nil
  if msg.type == 'task_assign' then
    -- The task follows its message only while it is still this agent's (or nobody's, pending);
    -- one since given to another agent stays where it is.
    local key = K.task(msg.taskId)
    local f = redis.call('HMGET', key, 'state', 'assignedTo')
    local st, owner = f[1], nz(f[2])
    if st == 'pending' or ((st == 'assigned' or st == 'running') and owner == from) then
      if owner then redis.call('SREM', K.running(owner), msg.taskId) end
      redis.call('HSET', key, 'state', 'assigned', 'assignedTo', to, 'updatedAt', NOW)
      redis.call('HDEL', key, 'startedAt', 'claimToken')
      move_task_state(msg.taskId, st, 'assigned')
      redis.call('ZREM', K.backlog, msg.taskId)
    end
  end
  push_message(to, msg, band)
  emit({ type = 'message.moved', agent = to, from = from, to = to, task = msg.taskId, text = msg.type })
  return { 'ok', 'moved' }
end
if msg.type == 'task_assign' then
  -- Only a task this agent still holds goes back to the backlog (as the reaper does it).
  if redis.call('HGET', K.task(msg.taskId), 'assignedTo') == from and requeue_task(msg.taskId, 'reclaimed to the backlog') then
    return { 'ok', 'requeued' }
  end
  return { 'ok', 'stale' }
end
local fields = cjson.decode(o.newTaskFields)
local id = o.newTaskId
hset_table(K.task(id), fields)
redis.call('ZADD', K.tasks, fields.createdAt, id)
redis.call('SADD', K.tasksIn('pending'), id)
backlog_add(id)
emit({ type = 'backlog.added', task = id, from = from, text = 'reclaimed from a stopped agent' })
return { 'ok', 'created' }
