-- Assign mission work under the dispatcher's lease: per entry, create the task, queue its
-- task_assign message, and move the item. ARGV: now, missionId, token, from, then per entry 9
-- values: itemId, agentId, taskId, description, priority, tags (JSON), role (work|review|fix),
-- watchId ('' none), mode ('ready': the item must be ready and becomes assigned; 'keep': the
-- item's status stays; 'take': the item becomes assigned whatever it was).
-- Returns {'lost'} without the lease, else {'ok', n assigned, skipped item ids...}.
local mid, token, from = ARGV[2], ARGV[3], ARGV[4]
if not lease_ok(mid, token) then return { 'lost' } end
local maxAttempts = redis.call('HGET', mission_key(mid), 'maxAttempts') or '3'
local out, n = { 'ok', 0 }, 0
for k = 5, #ARGV, 9 do
  local iid, agent, tid, desc, priority, tags, role, watch, mode = ARGV[k], ARGV[k + 1], ARGV[k + 2], ARGV[k + 3], ARGV[k + 4], ARGV[k + 5], ARGV[k + 6], ARGV[k + 7], ARGV[k + 8]
  local ikey = item_key(mid, iid)
  local status = redis.call('HGET', ikey, 'status')
  local ast = redis.call('HGET', P .. 'agent:' .. agent, 'state')
  if not status or not ast or TERMINAL_AGENT[ast] or (mode == 'ready' and status ~= 'ready') then
    out[#out + 1] = iid
  else
    local key = task_key(tid)
    redis.call('HSET', key, 'id', tid, 'description', desc, 'state', 'assigned', 'priority', priority, 'tags', tags,
      'assignedTo', agent, 'createdAt', NOW, 'updatedAt', NOW, 'attempts', 0, 'maxAttempts', maxAttempts,
      'mission', mid, 'workItem', iid, 'missionRole', role)
    if watch ~= '' then redis.call('HSET', key, 'watch', watch) end
    redis.call('ZADD', P .. 'tasks', NOW, tid)
    redis.call('SADD', P .. 'tasks:assigned', tid)
    local band = PRIORITY_BAND[priority] or 2
    push_message(agent, { type = 'task_assign', taskId = tid, from = from, priority = ({ 'urgent', 'high', 'normal', 'low' })[band + 1] }, band)
    if mode ~= 'keep' then
      redis.call('HSET', ikey, 'status', 'assigned', 'assignedTo', agent, 'task', tid, 'updatedAt', NOW, 'reviewerApproved', 'false')
      index_item(mid, iid, status, 'assigned')
    end
    emit({ by = token, type = 'task.created', task = tid, agent = agent, mission = mid, state = 'assigned', text = role .. ': ' .. (redis.call('HGET', ikey, 'title') or '') })
    n = n + 1
  end
end
out[2] = n
return out
