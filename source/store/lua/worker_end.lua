-- End a worker round, atomically: finish each task attempt the worker still owns, acknowledge
-- the round's messages, count the round, log the activity line. Then, when asked (chain) and the
-- agent may go on, begin the next round in the same call (begin_round, prelude): a busy worker
-- spends one script per task and stays working; otherwise the agent goes back to idle.
-- The round's streak step (model/quarantine.ts) keeps the agent's count of attempts failed fast
-- in a row: 'reset' zeroes it, 'add' adds the attempts this call recorded as failed, and when the
-- count reaches quarantineAfter a working or idle agent is quarantined (an agent.state event with
-- the reason, and a query to the supervisor: a help prompt in the console) instead of going on.
-- Options: agent, acks (csv of message ids), delays (csv), activity (line; '' = none),
--   activityTtlSecs, activityMax, streak ('reset'|'add'|'keep'), quarantineAfter (0 = never),
--   quarantineWhy (the reason's tail), chain ('1'|'0'), and with chain begin_round's options
--   (maxMsgs, maxTasks, autoClaim, skills, generalist, tokenBase, backlogScan, retryGraceMs); then
--   the list: the results as id, token, outcome, text quads.
-- Returns {next round (begin_round's list), 'quarantined:<reason>' or '', outcome per result, in
-- order}.
local o, results = options()
local id = o.agent
local akey = K.agent(id)
local delays = split_csv(o.delays)
local out = { '' }
for k = results, #ARGV, 4 do
  out[#out + 1] = finish_task(ARGV[k], ARGV[k + 1], ARGV[k + 2], ARGV[k + 3], delays)
end
local acks = split_csv(o.acks)
for _, m in ipairs(acks) do redis.call('HDEL', K.held(id), m) end
local state = redis.call('HGET', akey, 'state')
if not state then return out end
redis.call('HINCRBY', akey, 'roundsCompleted', 1)
redis.call('HSET', akey, 'lastActiveAt', NOW, 'updatedAt', NOW, 'currentTask', '')
if o.activity ~= '' then
  -- The activity log is bounded, and expires an hour after it was started (a dead agent's goes).
  local log = K.activity(id)
  local n = redis.call('LPUSH', log, o.activity)
  if n == 1 then redis.call('EXPIRE', log, tonumber(o.activityTtlSecs)) elseif n > tonumber(o.activityMax) then redis.call('LTRIM', log, 0, tonumber(o.activityMax) - 1) end
end
if o.streak == 'reset' then
  redis.call('HSET', akey, 'fastFails', 0)
elseif o.streak == 'add' then
  local failed = 0
  for i = 2, #out do
    if out[i] == 'failed-retry' or out[i] == 'failed-dead' then failed = failed + 1 end
  end
  local n = redis.call('HINCRBY', akey, 'fastFails', failed)
  local after = tonumber(o.quarantineAfter) or 0
  if failed > 0 and after > 0 and n >= after and (state == 'working' or state == 'idle') then
    local why = 'quarantined: ' .. n .. ' attempts ' .. o.quarantineWhy
    local name = redis.call('HGET', akey, 'name') or id
    redis.call('HSET', akey, 'state', 'quarantined')
    emit({ type = 'agent.state', agent = id, state = 'quarantined', prev = state, text = why })
    push_message(SUPERVISOR, { type = 'query', from = id, priority = 'high',
      question = '[Agent Quarantined] ' .. name .. ': ' .. why .. '\nIt takes no work until resumed. Fix the cause, then: tt resume ' .. name },
      PRIORITY_BAND.high)
    out[1] = 'quarantined:' .. why
    return out
  end
end
if state ~= 'working' then return out end
if o.chain == '1' and redis.call('EXISTS', K.stop(id)) == 0 then
  local nextRound = begin_round(id, 'working', o, true)
  if nextRound then
    out[1] = nextRound
    return out
  end
end
redis.call('HSET', akey, 'state', 'idle')
emit({ type = 'agent.state', agent = id, state = 'idle', prev = 'working' })
return out
