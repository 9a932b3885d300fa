-- Agents: who may be sent messages or given work, the messages an agent holds, and the start of
-- a worker's round.

local SUPERVISOR = '00000000-0000-0000-0000-000000000001'
local TERMINAL_AGENT = { stopped = true, error = true, cold = true }

-- Whether an agent can be sent messages: the supervisor mailbox, or a known agent.
local function agent_exists(id)
  return id == SUPERVISOR or redis.call('EXISTS', K.agent(id)) == 1
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

-- The body of a worker round's start (worker_begin, and worker_end when it chains into the next
-- round): claim the agent's messages (at most maxTasks task assignments) into its held hash,
-- start the assigned tasks, and when nothing is actionable take one fitting backlog task.
-- Whatever the agent already holds is handed out again first: a round ends by acknowledging
-- all of it, so anything still held comes from a round whose reply was lost.
-- a = the script's options (options()): maxMsgs, maxTasks, autoClaim ('1'|'0'), skills (csv),
-- generalist ('1'|'0'), tokenBase, backlogScan, retryGraceMs.
-- Returns the round as one flat list, or nil when there is nothing to do:
--   #messages, messages..., #tasks, then per task #fields, its HGETALL..., #stale, stale ids...,
--   then #agent fields and the agent's HGETALL (0 for a chained round: the worker has it).
local function begin_round(id, state, a, chained)
  local akey = K.agent(id)
  local maxMsgs, maxTasks, tokenBase = tonumber(a.maxMsgs), tonumber(a.maxTasks), a.tokenBase
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
  if not actionable and a.autoClaim == '1' then
    local got = take_backlog(id, tokenBase .. ':' .. #started, csv_set(a.skills), a.generalist == '1',
      tonumber(a.backlogScan), tonumber(a.retryGraceMs) or 0)
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
