-- End a worker round, atomically: finish each task attempt the worker still owns, acknowledge
-- the round's messages, count the round, go back to idle, log the activity line.
-- ARGV: now, agentId, results (JSON list of {id, token, outcome, text}), ackIds (csv),
--       delays (csv), activity line, activityTtlSecs, activityMax.
-- Returns {outcome per result, in order}.
local id = ARGV[2]
local akey = P .. 'agent:' .. id
local delays = split_csv(ARGV[5])
local out = {}
for i, r in ipairs(cjson.decode(ARGV[3])) do
  out[i] = finish_task(r.id, r.token, r.outcome, r.text, delays)
end
local acks = split_csv(ARGV[4])
if #acks > 0 then redis.call('HDEL', P .. 'held:' .. id, unpack(acks)) end
if redis.call('EXISTS', akey) == 1 then
  redis.call('HINCRBY', akey, 'roundsCompleted', 1)
  redis.call('HSET', akey, 'lastActiveAt', NOW, 'updatedAt', NOW)
  redis.call('HDEL', akey, 'currentTask')
  local state = redis.call('HGET', akey, 'state')
  if state == 'working' then
    redis.call('HSET', akey, 'state', 'idle')
    emit({ type = 'agent.state', agent = id, state = 'idle', prev = 'working' })
  end
  if ARGV[6] ~= '' then
    local log = P .. 'activity:' .. id
    redis.call('LPUSH', log, ARGV[6])
    redis.call('LTRIM', log, 0, tonumber(ARGV[8]) - 1)
    redis.call('EXPIRE', log, tonumber(ARGV[7]))
  end
end
return out
