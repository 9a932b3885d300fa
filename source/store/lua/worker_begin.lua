-- Begin a worker round, atomically: check the agent may work, claim its messages (at most
-- maxTasks task assignments) into its held hash, start the assigned tasks, and when there is
-- nothing actionable take one task from the backlog (autoClaim).
-- Whatever the agent already holds (held messages, started tasks) is handed out again first: a
-- round ends by acknowledging all of it, so anything still held comes from a round whose reply
-- was lost (a connection cut while the reply was in flight, then the command re-sent).
-- ARGV: now, agentId, maxMsgs, maxTasks, autoClaim ('1'|'0'), skills (csv), generalist ('1'|'0'),
--       tokenBase, backlogScan.
-- Returns {'stop'|'paused'|'gone', state} or {'ok', json} with json = {messages, tasks, stale}.
local id = ARGV[2]
local akey = P .. 'agent:' .. id
local state = redis.call('HGET', akey, 'state')
if not state then return { 'gone', '' } end
local stopFlag = redis.call('EXISTS', P .. 'stop:' .. id) == 1
-- Stopped with no stop request: the reaper took this agent for dead (a Redis outage or a long
-- pause outlived its heartbeat) while its worker lives on. The worker may come back.
if state == 'stopped' and not stopFlag then return { 'reaped', state } end
if TERMINAL_AGENT[state] or state == 'draining' or stopFlag then return { 'stop', state } end
if state == 'paused' then return { 'paused', state } end

local maxMsgs, maxTasks, tokenBase = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[8]
local inbox, held = P .. 'inbox:' .. id, P .. 'held:' .. id
local taken, started, stale = {}, {}, {}
local actionable = false
local nTasks = 0
for _, m in ipairs(redis.call('HVALS', held)) do
  taken[#taken + 1] = m
  local ok, msg = pcall(cjson.decode, m)
  if ok and type(msg) == 'table' and msg.type ~= 'informational' and msg.type ~= 'confirmation' then actionable = true end
end
for _, tid in ipairs(redis.call('SMEMBERS', P .. 'running:' .. id)) do
  started[#started + 1] = tid
  nTasks = nTasks + 1
  actionable = true
end
for _, m in ipairs(redis.call('ZRANGE', inbox, 0, maxMsgs - 1)) do
  local ok, msg = pcall(cjson.decode, m)
  if not ok or type(msg) ~= 'table' then msg = { type = 'unreadable' } end
  local isTask = msg.type == 'task_assign' or msg.type == 'task'
  if not (isTask and nTasks >= maxTasks) then
    if isTask then nTasks = nTasks + 1 end
    redis.call('ZREM', inbox, m)
    redis.call('HSET', held, msg.id or ('unreadable-' .. NOW .. '-' .. #taken), m)
    taken[#taken + 1] = m
    if msg.type == 'task_assign' and msg.taskId then
      local tkey = task_key(msg.taskId)
      local st = redis.call('HGET', tkey, 'state')
      if st == 'assigned' and redis.call('HGET', tkey, 'assignedTo') == id then
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
if redis.call('ZCARD', inbox) == 0 then redis.call('DEL', P .. 'wake:' .. id) end

if not actionable and ARGV[5] == '1' then
  local skills = csv_set(ARGV[6])
  local got = take_backlog(id, tokenBase .. ':' .. #started, skills, ARGV[7] == '1', tonumber(ARGV[9]))
  if got then started[#started + 1] = got end
end

local tasks = {}
for i, tid in ipairs(started) do
  local flat = redis.call('HGETALL', task_key(tid))
  local t = {}
  for j = 1, #flat, 2 do t[flat[j]] = flat[j + 1] end
  tasks[i] = t
end
if #started > 0 or actionable then
  redis.call('HSET', akey, 'lastActiveAt', NOW, 'updatedAt', NOW)
  if #started > 0 then redis.call('HSET', akey, 'currentTask', started[1]) end
  if state ~= 'working' then
    redis.call('HSET', akey, 'state', 'working')
    emit({ type = 'agent.state', agent = id, state = 'working', prev = state })
  end
end
return { 'ok', cjson.encode({ messages = taken, tasks = tasks, stale = stale }) }
