-- End a worker round, atomically: finish each task attempt the worker still owns, acknowledge
-- the round's messages, count the round, log the activity line. Then, when asked (chain) and the
-- agent may go on, begin the next round in the same call (begin_round, prelude): a busy worker
-- spends one script per task and stays working; otherwise the agent goes back to idle.
-- ARGV: now, agentId, ackIds (csv), delays (csv), activity line, activityTtlSecs, activityMax,
--       chain ('1'|'0'), then begin_round's arguments (maxMsgs, maxTasks, autoClaim, skills,
--       generalist, tokenBase, backlogScan), then the results as id, token, outcome, text quads.
-- Returns {next round (begin_round's list) or '', outcome per result, in order}.
local id = ARGV[2]
local akey = K.agent(id)
local delays = split_csv(ARGV[4])
local out = { '' }
for k = 16, #ARGV, 4 do
  out[#out + 1] = finish_task(ARGV[k], ARGV[k + 1], ARGV[k + 2], ARGV[k + 3], delays)
end
local acks = split_csv(ARGV[3])
for _, m in ipairs(acks) do redis.call('HDEL', K.held(id), m) end
local state = redis.call('HGET', akey, 'state')
if not state then return out end
redis.call('HINCRBY', akey, 'roundsCompleted', 1)
redis.call('HSET', akey, 'lastActiveAt', NOW, 'updatedAt', NOW, 'currentTask', '')
if ARGV[5] ~= '' then
  -- The activity log is bounded, and expires an hour after it was started (a dead agent's goes).
  local log = K.activity(id)
  local n = redis.call('LPUSH', log, ARGV[5])
  if n == 1 then redis.call('EXPIRE', log, tonumber(ARGV[6])) elseif n > tonumber(ARGV[7]) then redis.call('LTRIM', log, 0, tonumber(ARGV[7]) - 1) end
end
if state ~= 'working' then return out end
if ARGV[8] == '1' and redis.call('EXISTS', K.stop(id)) == 0 then
  local nextRound = begin_round(id, 'working', { ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15] }, true)
  if nextRound then
    out[1] = nextRound
    return out
  end
end
redis.call('HSET', akey, 'state', 'idle')
emit({ type = 'agent.state', agent = id, state = 'idle', prev = 'working' })
return out
