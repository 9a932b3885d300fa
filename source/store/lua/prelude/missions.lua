-- Missions: the dispatcher's lease, and the work items' status indexes.

-- Fencing: a dispatcher's write lands only while it holds the mission's lease.
local function lease_ok(mid, token)
  return redis.call('GET', K.missionLease(mid)) == token
end

-- A live item (assigned or running) whose task no longer matches it: the task is gone or
-- cancelled, it has started while the item says assigned, or another agent holds it. Returns
-- the row [itemId, status, assignedTo, task, title, taskState, taskAssignedTo] as JSON (absent
-- fields false), or nil when the item is not live or matches its task.
local function item_mismatch(mid, iid)
  local ikey = K.missionItem(mid, iid)
  local f = redis.call('HMGET', ikey, 'status', 'assignedTo', 'task')
  local st, agent, tid = f[1], nz(f[2]), nz(f[3])
  if st ~= 'assigned' and st ~= 'running' then return nil end
  local t = { false, false }
  if tid then t = redis.call('HMGET', K.task(tid), 'state', 'assignedTo') end
  local tst, tagent = t[1], nz(t[2])
  if tst == 'in_flight' then tst = 'running' end
  if not tst or tst == 'cancelled' or (tst == 'running' and st == 'assigned') or (tagent and tagent ~= agent) then
    return cjson.encode({ iid, st, agent or false, tid or false, redis.call('HGET', ikey, 'title') or false, tst, tagent or false })
  end
  return nil
end

-- Moves an item between the status indexes (waiting count, ready by rank, active, blocked).
local function index_item(mid, iid, from, to)
  if from == to then return end
  if from == 'pending' then redis.call('HDEL', K.missionWaiting(mid), iid)
  elseif from == 'ready' then redis.call('ZREM', K.missionReady(mid), iid)
  elseif from == 'assigned' or from == 'running' then if to ~= 'assigned' and to ~= 'running' then redis.call('SREM', K.missionActive(mid), iid) end
  elseif from == 'blocked' then redis.call('SREM', K.missionBlocked(mid), iid) end
  if to == 'ready' then redis.call('ZADD', K.missionReady(mid), redis.call('HGET', K.missionItem(mid, iid), 'rank') or 0, iid)
  elseif to == 'assigned' or to == 'running' then redis.call('SADD', K.missionActive(mid), iid)
  elseif to == 'blocked' then redis.call('SADD', K.missionBlocked(mid), iid) end
end

-- An item is done: count it, and items waiting on it whose last dependency this was become ready.
local function promote_dependents(mid, iid)
  redis.call('HINCRBY', K.mission(mid), 'itemsDone', 1)
  local ok, deps = pcall(cjson.decode, redis.call('HGET', K.missionItem(mid, iid), 'dependents') or '[]')
  if not ok or type(deps) ~= 'table' then return 0 end
  local promoted = 0
  for _, d in ipairs(deps) do
    local left = redis.call('HINCRBY', K.missionWaiting(mid), d, -1)
    if left <= 0 and redis.call('HGET', K.missionItem(mid, d), 'status') == 'pending' then
      redis.call('HSET', K.missionItem(mid, d), 'status', 'ready', 'updatedAt', NOW)
      index_item(mid, d, 'pending', 'ready')
      emit({ type = 'mission.item', mission = mid, state = 'ready', prev = 'pending', text = redis.call('HGET', K.missionItem(mid, d), 'title') })
      promoted = promoted + 1
    end
  end
  return promoted
end
