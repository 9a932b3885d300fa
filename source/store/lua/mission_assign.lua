-- Assign mission work under the dispatcher's lease: per entry, create the task, queue its
-- task_assign message, and move the item. ARGV: now, missionId, token, from, then per entry 11
-- values: itemId, agentId, taskId, prefix and extra (of the task's description, which is written
-- here from the item), priority, tags (JSON), role (work|review|fix), watchId ('' none), mode
-- ('ready': the item must be ready and becomes assigned; 'keep': the item's status stays;
-- 'take': the item becomes assigned whatever it was), branch (the task's git branch, '' none).
-- Returns {'lost'} without the lease, else {'ok', n assigned, skipped item ids...}.
-- Every task gets its own task.created event (town, agent and mission streams); what the entries
-- share (the task indexes, the ready and active sets, the stream trims) is written once per call.
local mid, token, from = ARGV[2], ARGV[3], ARGV[4]
if not lease_ok(mid, token) then return { 'lost' } end
local m = K.mission(mid)
local mf = redis.call('HMGET', m, 'maxAttempts', 'title')
local maxAttempts, mtitle = mf[1] or '3', mf[2] or ''
local out = { 'ok', 0 }

-- A task's description: "[prefix] title", the mission, the work item, its source and body, then
-- the extra text, a blank line between the parts.
local function describe(prefix, iid, f, extra)
  local d = { '[', prefix, '] ', f[2] or '', '\n\nMission: ', mtitle, ' (', mid, ')\nWork item: ', iid, ' (', f[4] or '', ')' }
  if nz(f[5]) then d[#d + 1] = '\nSource: ' .. f[5] end
  if nz(f[3]) then d[#d + 1] = '\n\n' .. f[3] end
  if extra ~= '' then d[#d + 1] = '\n\n' .. extra end
  return table.concat(d)
end

-- Which entries go ahead, and each item's status before its entry (an item named twice sees
-- the status the first entry gave it).
local go, status, items, agents = {}, {}, {}, {}
for k = 5, #ARGV, 11 do
  local iid, agent, mode = ARGV[k], ARGV[k + 1], ARGV[k + 9]
  local st = status[iid]
  if st == nil then
    local f = redis.call('HMGET', K.missionItem(mid, iid), 'status', 'title', 'body', 'kind', 'sourceRef')
    st, items[iid] = f[1], f
  end
  local ast = agents[agent]
  if ast == nil then
    ast = redis.call('HGET', K.agent(agent), 'state')
    agents[agent] = ast
  end
  if not st or not ast or TERMINAL_AGENT[ast] or (mode == 'ready' and st ~= 'ready') then
    out[#out + 1] = iid
  else
    go[#go + 1] = { k, st }
    if mode ~= 'keep' then st = 'assigned' end
  end
  status[iid] = st
end
local n = #go
if n == 0 then return out end

local seq = redis.call('INCRBY', K.seq, n) - n
local scored, tids, readied = {}, {}, {}
local town, stream = K.events, K.missionEvents(mid)
for j, e in ipairs(go) do
  local k, st = e[1], e[2]
  local iid, agent, tid, priority, tags, role, watch, mode, branch = ARGV[k], ARGV[k + 1], ARGV[k + 2], ARGV[k + 5], ARGV[k + 6], ARGV[k + 7], ARGV[k + 8], ARGV[k + 9], ARGV[k + 10]
  local f = items[iid]
  local key = K.task(tid)
  redis.call('HSET', key, 'id', tid, 'description', describe(ARGV[k + 3], iid, f, ARGV[k + 4]), 'state', 'assigned', 'priority', priority, 'tags', tags,
    'assignedTo', agent, 'createdAt', NOW, 'updatedAt', NOW, 'attempts', 0, 'maxAttempts', maxAttempts,
    'mission', mid, 'workItem', iid, 'missionRole', role)
  if watch ~= '' then redis.call('HSET', key, 'watch', watch) end
  if branch ~= '' then redis.call('HSET', key, 'branch', branch) end
  scored[#scored + 1] = NOW
  scored[#scored + 1] = tid
  tids[#tids + 1] = tid
  -- Its task_assign message, as push_message queues one (the wake list holds one token).
  local band = PRIORITY_BAND[priority] or 2
  local s = seq + j
  local msg = cjson.encode({ type = 'task_assign', taskId = tid, from = from, priority = ({ 'urgent', 'high', 'normal', 'low' })[band + 1], id = 'm' .. s, to = agent, createdAt = NOW })
  redis.call('ZADD', K.inbox(agent), score(band, s), msg)
  if redis.call('LPUSH', K.wake(agent), '1') > 1 then redis.call('LTRIM', K.wake(agent), 0, 0) end
  if mode ~= 'keep' then
    redis.call('HSET', K.missionItem(mid, iid), 'status', 'assigned', 'assignedTo', agent, 'task', tid, 'updatedAt', NOW, 'reviewerApproved', 'false')
    if st == 'ready' then readied[#readied + 1] = iid else index_item(mid, iid, st, 'assigned') end
  end
  local data = cjson.encode({ by = token, type = 'task.created', task = tid, agent = agent, mission = mid, state = 'assigned', text = role .. ': ' .. (f[2] or ''), ts = NOW })
  redis.call('XADD', town, '*', 'type', 'task.created', 'data', data)
  redis.call('XADD', K.agentEvents(agent), 'MAXLEN', '~', SCOPED_EVENTS_MAX, '*', 'type', 'task.created', 'data', data)
  redis.call('XADD', stream, '*', 'type', 'task.created', 'data', data)
end
redis.call('ZADD', K.tasks, unpack(scored))
redis.call('SADD', K.tasksIn('assigned'), unpack(tids))
if #readied > 0 then
  redis.call('ZREM', K.missionReady(mid), unpack(readied))
  redis.call('SADD', K.missionActive(mid), unpack(readied))
end
redis.call('XTRIM', town, 'MAXLEN', '~', TOWN_EVENTS_MAX)
redis.call('XTRIM', stream, 'MAXLEN', '~', SCOPED_EVENTS_MAX)
out[2] = n
return out
