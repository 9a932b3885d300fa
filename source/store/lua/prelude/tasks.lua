-- Tasks: every change of state or assignee (and the indexes and the mission signal that follow
-- it), the backlog, an attempt started and ended, a requeue.

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

-- Whether a live agent other than this one is idle (it may take a retry this one failed).
local function other_idle(agent)
  for _, a in ipairs(redis.call('SMEMBERS', K.agents)) do
    if a ~= agent and redis.call('HGET', K.agent(a), 'state') == 'idle' and redis.call('EXISTS', K.heartbeat(a)) == 1 then
      return true
    end
  end
  return false
end

-- Take the best backlog task this agent may do (looking at most `scan` deep) and start it.
-- A retry this agent failed (lastAgent) is left for another for graceMs after it was due
-- (retryAt), while another live agent is idle: a retry prefers a fresh pair of hands, and a
-- one-agent town (or one whose others are busy) still retries at once.
local function take_backlog(agent, token, skills, generalist, scan, graceMs)
  local ids = redis.call('ZRANGE', K.backlog, 0, scan - 1)
  local others
  for _, id in ipairs(ids) do
    local f = redis.call('HMGET', K.task(id), 'state', 'lastAgent', 'retryAt')
    if f[1] ~= 'pending' then
      redis.call('ZREM', K.backlog, id)
    elseif may_take(id, skills, generalist) then
      local leave = false
      if f[2] == agent and NOW < (tonumber(f[3]) or 0) + graceMs then
        if others == nil then others = other_idle(agent) end
        leave = others
      end
      if not leave then
        start_task(id, agent, token, 'pending', 'from the backlog')
        return id
      end
    end
  end
  return nil
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
    redis.call('HSET', key, 'state', 'pending', 'retryAt', NOW + delay)
    -- The backlog prefers another agent for the retry (take_backlog).
    if agent then redis.call('HSET', key, 'lastAgent', agent) end
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
