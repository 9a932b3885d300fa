-- Shared by every tt script (prepended at load time).
-- Convention: KEYS[1] is the town prefix "tt:{town}:" (a real key name carrying the town's hash
-- tag, so every key the script builds lives in the same cluster slot); ARGV[1] is "now" in epoch
-- milliseconds from the caller's injected clock.
local P = KEYS[1]
local NOW = tonumber(ARGV[1])

-- The key table: every key kind of docs/REDIS.md, built here and nowhere else, named as keysFor
-- names it in keys.ts (test/key-schema.test.ts checks the two build the same names). A key with
-- an id is a function of it. Each entry is one line, P, quoted text and its parameters joined by
-- `..`: the loader writes every use out inline (scripts.ts, expandKeys), so the table costs a
-- script run nothing, and a use of a kind that is not here fails when the scripts load.
local K = {}
K.meta = P .. 'town'
K.seq = P .. 'seq'
K.agents = P .. 'agents'
K.agentNames = P .. 'agents:names'
function K.agent(id) return P .. 'agent:' .. id end
function K.inbox(id) return P .. 'inbox:' .. id end
function K.wake(id) return P .. 'wake:' .. id end
function K.held(id) return P .. 'held:' .. id end
function K.running(id) return P .. 'running:' .. id end
function K.heartbeat(id) return P .. 'hb:' .. id end
function K.stop(id) return P .. 'stop:' .. id end
function K.activity(id) return P .. 'activity:' .. id end
K.tasks = P .. 'tasks'
function K.tasksIn(state) return P .. 'tasks:' .. state end
function K.task(id) return P .. 'task:' .. id end
K.backlog = P .. 'backlog'
K.backlogWake = P .. 'backlog:wake'
K.delayed = P .. 'delayed'
K.reapLock = P .. 'lock:reap'
K.missions = P .. 'missions'
K.missionsActive = P .. 'missions:active'
function K.mission(mid) return P .. 'mission:' .. mid end
function K.missionItems(mid) return P .. 'mission:' .. mid .. ':items' end
function K.missionItem(mid, iid) return P .. 'mission:' .. mid .. ':item:' .. iid end
function K.missionReady(mid) return P .. 'mission:' .. mid .. ':ready' end
function K.missionWaiting(mid) return P .. 'mission:' .. mid .. ':waiting' end
function K.missionActive(mid) return P .. 'mission:' .. mid .. ':active' end
function K.missionTouched(mid) return P .. 'mission:' .. mid .. ':touched' end
function K.missionBlocked(mid) return P .. 'mission:' .. mid .. ':blocked' end
function K.missionWatches(mid) return P .. 'mission:' .. mid .. ':watches' end
function K.missionWatch(mid, wid) return P .. 'mission:' .. mid .. ':watch:' .. wid end
function K.missionNotes(mid) return P .. 'mission:' .. mid .. ':notes' end
function K.missionNotesPending(mid) return P .. 'mission:' .. mid .. ':notes:pending' end
function K.missionCompletions(mid) return P .. 'mission:' .. mid .. ':completions' end
function K.missionLease(mid) return P .. 'mission:' .. mid .. ':lease' end
K.dispatchWake = P .. 'dispatch:wake'
K.events = P .. 'events'
function K.agentEvents(id) return P .. 'events:agent:' .. id end
function K.missionEvents(mid) return P .. 'events:mission:' .. mid end

local BAND = 17592186044416 -- 2^44: queue score = band * 2^44 + sequence
local TOWN_EVENTS_MAX = 10000
local SCOPED_EVENTS_MAX = 1000

local function nz(v) if v == false or v == nil or v == '' then return nil end return v end

-- Append one event to the town stream and to the streams of the agent and mission it concerns.
local function emit(e)
  for k, v in pairs(e) do if v == false or v == '' then e[k] = nil end end
  e.ts = NOW
  local data = cjson.encode(e)
  redis.call('XADD', K.events, 'MAXLEN', '~', TOWN_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  if nz(e.agent) then
    redis.call('XADD', K.agentEvents(e.agent), 'MAXLEN', '~', SCOPED_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  end
  if nz(e.mission) then
    redis.call('XADD', K.missionEvents(e.mission), 'MAXLEN', '~', SCOPED_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  end
end

local function next_seq() return redis.call('INCR', K.seq) end
local function score(band, seq) return string.format('%.0f', band * BAND + seq) end

-- Queue a message (a table without id/createdAt) in an agent's inbox and wake its worker.
-- Returns the message id.
local function push_message(to, msg, band)
  local seq = next_seq()
  msg.id = 'm' .. seq
  msg.to = to
  msg.createdAt = NOW
  redis.call('ZADD', K.inbox(to), score(band, seq), cjson.encode(msg))
  redis.call('LPUSH', K.wake(to), '1')
  redis.call('LTRIM', K.wake(to), 0, 0)
  return msg.id
end

local function hset_table(key, t)
  local flat = {}
  for k, v in pairs(t) do flat[#flat + 1] = k; flat[#flat + 1] = tostring(v) end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
end

local function csv_set(s)
  local set = {}
  for item in string.gmatch(s or '', '[^,]+') do set[item] = true end
  return set
end

local function hdel_csv(key, s)
  for f in string.gmatch(s or '', '[^,]+') do redis.call('HDEL', key, f) end
end

local SUPERVISOR = '00000000-0000-0000-0000-000000000001'
local TERMINAL_AGENT = { stopped = true, error = true, cold = true }

-- Whether an agent can be sent messages: the supervisor mailbox, or a known agent.
local function agent_exists(id)
  return id == SUPERVISOR or redis.call('EXISTS', K.agent(id)) == 1
end

-- A mission task's state or assignee is about to change, or it is about to be deleted: its work
-- item goes on the mission's touched set, which the dispatcher's next tick takes and checks
-- against the task (instead of checking every live item every tick).
local function touch_task(id)
  local f = redis.call('HMGET', K.task(id), 'mission', 'workItem')
  if not (nz(f[1]) and nz(f[2])) then return end
  -- Only a live item can disagree with its task; a finished mission's items never are.
  local st = redis.call('HGET', K.missionItem(f[1], f[2]), 'status')
  if st == 'assigned' or st == 'running' then redis.call('SADD', K.missionTouched(f[1]), f[2]) end
end

-- Every change of a task's state or assignee goes through here (same state: a new assignee),
-- so a mission task's item is touched.
local function move_task_state(id, from, to)
  touch_task(id)
  if from ~= to then
    redis.call('SREM', K.tasksIn(from), id)
    redis.call('SADD', K.tasksIn(to), id)
  end
end

local PRIORITY_BAND = { critical = 0, urgent = 0, high = 1, normal = 2, low = 3 }

local function wake_backlog()
  if redis.call('LPUSH', K.backlogWake, '1') > 1000 then redis.call('LTRIM', K.backlogWake, 0, 999) end
end

-- Queue a task on the backlog (band: its priority's, when the caller knows it).
local function backlog_add(id, band)
  band = band or PRIORITY_BAND[redis.call('HGET', K.task(id), 'priority') or 'normal'] or 2
  redis.call('ZADD', K.backlog, score(band, next_seq()), id)
  wake_backlog()
end

-- Start an attempt: the task becomes running, owned by the agent (its running set and the
-- attempt token), and the attempt is counted on the task. Returns the attempt number.
local function start_task(id, agent, token, from, how)
  local key = K.task(id)
  redis.call('HSET', key, 'state', 'running', 'assignedTo', agent, 'claimToken', token, 'startedAt', NOW, 'updatedAt', NOW)
  local attempts = redis.call('HINCRBY', key, 'attempts', 1)
  move_task_state(id, from, 'running')
  if from == 'pending' then redis.call('ZREM', K.backlog, id) end
  redis.call('SADD', K.running(agent), id)
  emit({ type = 'task.started', task = id, agent = agent, state = 'running', prev = from, text = 'attempt ' .. attempts .. (how and (', ' .. how) or '') })
  return attempts
end

-- Whether an agent with these skills may take a task: untagged tasks are for anyone, a tagged
-- task for generalists and for agents whose role or capabilities name one of its tags.
local function may_take(id, skills, generalist)
  if generalist then return true end
  local ok, tags = pcall(cjson.decode, redis.call('HGET', K.task(id), 'tags') or '[]')
  if not ok or type(tags) ~= 'table' or #tags == 0 then return true end
  for _, t in ipairs(tags) do if skills[t] then return true end end
  return false
end

-- Take the best backlog task this agent may do (looking at most `scan` deep) and start it.
local function take_backlog(agent, token, skills, generalist, scan)
  local ids = redis.call('ZRANGE', K.backlog, 0, generalist and 0 or (scan - 1))
  for _, id in ipairs(ids) do
    local st = redis.call('HGET', K.task(id), 'state')
    if st ~= 'pending' then
      redis.call('ZREM', K.backlog, id)
    elseif may_take(id, skills, generalist) then
      start_task(id, agent, token, 'pending', 'from the backlog')
      return id
    end
  end
  return nil
end

-- An agent's held (claimed, unacknowledged) messages go back to its inbox at their priority;
-- with skip_assign, task_assign messages are dropped (their tasks were requeued instead).
local function return_held(id, skip_assign)
  local held = K.held(id)
  for _, m in ipairs(redis.call('HVALS', held)) do
    local ok, msg = pcall(cjson.decode, m)
    local band = 2
    if ok and type(msg) == 'table' then
      band = PRIORITY_BAND[msg.priority or 'normal'] or 2
      if skip_assign and msg.type == 'task_assign' then band = nil end
    end
    if band then redis.call('ZADD', K.inbox(id), score(band, next_seq()), m) end
  end
  redis.call('DEL', held)
end

-- Put an assigned (never started) task back on the backlog.
local function requeue_task(id, why)
  local key = K.task(id)
  local st = redis.call('HGET', key, 'state')
  if st ~= 'assigned' and st ~= 'running' then return false end
  local agent = redis.call('HGET', key, 'assignedTo')
  if agent then redis.call('SREM', K.running(agent), id) end
  redis.call('HSET', key, 'state', 'pending', 'updatedAt', NOW)
  redis.call('HDEL', key, 'assignedTo', 'startedAt', 'claimToken')
  move_task_state(id, st, 'pending')
  backlog_add(id)
  emit({ type = 'task.requeued', task = id, agent = agent, state = 'pending', prev = st, text = why })
  return true
end

-- A finished task of a mission is handed to the mission's dispatcher, and the dispatcher woken.
local function feed_mission(key, id)
  local mid = redis.call('HGET', key, 'mission')
  if not mid then return end
  redis.call('RPUSH', K.missionCompletions(mid), id)
  redis.call('LPUSH', K.dispatchWake, '1')
  redis.call('LTRIM', K.dispatchWake, 0, 0)
end

-- End an attempt. token '' is the operator (no ownership check); otherwise the attempt token
-- must match, so a stale owner's word is refused. A failure is retried after delays[attempts]
-- ms (via the delayed set) until maxAttempts, then the task is dead-lettered.
-- Returns completed | failed-retry | failed-dead | noop | stale | missing | illegal:<state>.
local function finish_task(id, token, outcome, text, delays)
  local key = K.task(id)
  local f = redis.call('HMGET', key, 'state', 'claimToken', 'assignedTo')
  local st, holder, agent = f[1], f[2], f[3]
  if not st then return 'missing' end
  if st == 'in_flight' then st = 'running' end
  if token ~= '' and holder ~= token then
    if st == 'completed' and outcome == 'completed' then return 'noop' end
    return 'stale'
  end
  if st == 'completed' then return outcome == 'completed' and 'noop' or 'illegal:completed' end
  if st == 'failed' or st == 'cancelled' then return 'illegal:' .. st end
  if agent then
    redis.call('SREM', K.running(agent), id)
    -- The worker's own round end clears its current-task pointer; an operator's word does it here.
    if token == '' and redis.call('HGET', K.agent(agent), 'currentTask') == id then redis.call('HDEL', K.agent(agent), 'currentTask') end
  end
  if holder and outcome ~= 'completed' then redis.call('HDEL', key, 'claimToken') end
  if st ~= 'running' then
    redis.call('ZREM', K.backlog, id)
    redis.call('ZREM', K.delayed, id)
  end
  if outcome == 'completed' then
    redis.call('HSET', key, 'state', 'completed', 'result', text, 'completedAt', NOW, 'updatedAt', NOW, 'claimToken', '')
    move_task_state(id, st, 'completed')
    if agent and (token ~= '' or redis.call('EXISTS', K.agent(agent)) == 1) then redis.call('HINCRBY', K.agent(agent), 'tasksCompleted', 1) end
    emit({ type = 'task.completed', task = id, agent = agent, state = 'completed', prev = st, text = string.sub(text, 1, 200) })
    feed_mission(key, id)
    return 'completed'
  end
  -- A task that fails before any worker started it still spends an attempt.
  if st ~= 'running' then redis.call('HINCRBY', key, 'attempts', 1) end
  local attempts = tonumber(redis.call('HGET', key, 'attempts') or '0') or 0
  local max = tonumber(redis.call('HGET', key, 'maxAttempts') or '1') or 1
  redis.call('HSET', key, 'lastError', text, 'updatedAt', NOW)
  if attempts < max then
    local delay = tonumber(delays[math.max(attempts, 1)] or delays[#delays] or '0') or 0
    redis.call('HSET', key, 'state', 'pending')
    redis.call('HDEL', key, 'assignedTo', 'startedAt')
    move_task_state(id, st, 'pending')
    redis.call('ZADD', K.delayed, NOW + delay, id)
    emit({ type = 'task.retry', task = id, agent = agent, state = 'pending', prev = st,
      text = 'attempt ' .. attempts .. ' of ' .. max .. ' failed: ' .. string.sub(text, 1, 160) .. '; retry in ' .. math.floor(delay / 1000) .. 's' })
    return 'failed-retry'
  end
  redis.call('HSET', key, 'state', 'failed', 'result', 'failed: ' .. text, 'completedAt', NOW, 'deadReason',
    'failed ' .. attempts .. ' of ' .. max .. ' attempts; last: ' .. text)
  move_task_state(id, st, 'failed')
  emit({ type = 'task.dead', task = id, agent = agent, state = 'failed', prev = st, text = 'dead letter after ' .. attempts .. ' attempts: ' .. string.sub(text, 1, 160) })
  feed_mission(key, id)
  return 'failed-dead'
end

-- The body of a worker round's start (worker_begin, and worker_end when it chains into the next
-- round): claim the agent's messages (at most maxTasks task assignments) into its held hash,
-- start the assigned tasks, and when nothing is actionable take one fitting backlog task.
-- Whatever the agent already holds is handed out again first: a round ends by acknowledging
-- all of it, so anything still held comes from a round whose reply was lost.
-- a = {maxMsgs, maxTasks, autoClaim, skills (csv), generalist, tokenBase, scan} (ARGV strings).
-- Returns the round as one flat list, or nil when there is nothing to do:
--   #messages, messages..., #tasks, then per task #fields, its HGETALL..., #stale, stale ids...,
--   then #agent fields and the agent's HGETALL (0 for a chained round: the worker has it).
local function begin_round(id, state, a, chained)
  local akey = K.agent(id)
  local maxMsgs, maxTasks, tokenBase = tonumber(a[1]), tonumber(a[2]), a[6]
  local inbox, held = K.inbox(id), K.held(id)
  local taken, started, stale = {}, {}, {}
  local actionable = false
  local nTasks = 0
  -- A chained round begins right after its predecessor acknowledged everything: nothing is held.
  if not chained then
    for _, m in ipairs(redis.call('HVALS', held)) do
      taken[#taken + 1] = m
      local ok, msg = pcall(cjson.decode, m)
      if ok and type(msg) == 'table' and msg.type ~= 'informational' and msg.type ~= 'confirmation' then actionable = true end
    end
    for _, tid in ipairs(redis.call('SMEMBERS', K.running(id))) do
      started[#started + 1] = tid
      nTasks = nTasks + 1
      actionable = true
    end
  end
  local queued = redis.call('ZRANGE', inbox, 0, maxMsgs - 1)
  for _, m in ipairs(queued) do
    local ok, msg = pcall(cjson.decode, m)
    if not ok or type(msg) ~= 'table' then msg = { type = 'unreadable' } end
    local isTask = msg.type == 'task_assign' or msg.type == 'task'
    if not (isTask and nTasks >= maxTasks) then
      if isTask then nTasks = nTasks + 1 end
      redis.call('ZREM', inbox, m)
      redis.call('HSET', held, msg.id or ('unreadable-' .. NOW .. '-' .. #taken), m)
      taken[#taken + 1] = m
      if msg.type == 'task_assign' and msg.taskId then
        local tkey = K.task(msg.taskId)
        if redis.call('HGET', tkey, 'state') == 'assigned' and redis.call('HGET', tkey, 'assignedTo') == id then
          start_task(msg.taskId, id, tokenBase .. ':' .. #started, 'assigned')
          started[#started + 1] = msg.taskId
          actionable = true
        else
          stale[#stale + 1] = msg.id or ''
        end
      elseif msg.type ~= 'informational' and msg.type ~= 'confirmation' and msg.type ~= 'ping' and msg.type ~= 'pong'
        and msg.type ~= 'task_done' and msg.type ~= 'task_failed' and msg.type ~= 'status_response' then
        actionable = true
      end
    end
  end
  if #queued > 0 and redis.call('ZCARD', inbox) == 0 then redis.call('DEL', K.wake(id)) end
  if not actionable and a[3] == '1' then
    local got = take_backlog(id, tokenBase .. ':' .. #started, csv_set(a[4]), a[5] == '1', tonumber(a[7]))
    if got then started[#started + 1] = got end
  end
  if #started == 0 and #taken == 0 then return nil end
  if #started > 0 or actionable then
    if state ~= 'working' then
      redis.call('HSET', akey, 'lastActiveAt', NOW, 'updatedAt', NOW, 'currentTask', started[1] or '', 'state', 'working')
      emit({ type = 'agent.state', agent = id, state = 'working', prev = state })
    else
      redis.call('HSET', akey, 'lastActiveAt', NOW, 'updatedAt', NOW, 'currentTask', started[1] or '')
    end
  end
  local out = { #taken }
  local function append(list) for _, v in ipairs(list) do out[#out + 1] = v end end
  append(taken)
  out[#out + 1] = #started
  for _, tid in ipairs(started) do
    local flat = redis.call('HGETALL', K.task(tid))
    out[#out + 1] = #flat
    append(flat)
  end
  out[#out + 1] = #stale
  append(stale)
  -- A chained round's worker already has the agent record.
  local agent = chained and {} or redis.call('HGETALL', akey)
  out[#out + 1] = #agent
  append(agent)
  return out
end

local function split_csv(s)
  local out = {}
  for item in string.gmatch(s or '', '[^,]+') do out[#out + 1] = item end
  return out
end

-- Missions ------------------------------------------------------------------------------------

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
