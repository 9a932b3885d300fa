-- Take a dispatcher's batch of finished mission tasks under its lease (they stay in the list
-- until removed with done = '1' after they were applied). ARGV: now, missionId, token, max,
-- done ('1': remove the first `max`). Returns {'lost'} | {'ok', taskIds...}.
local mid, token = ARGV[2], ARGV[3]
if not lease_ok(mid, token) then return { 'lost' } end
local list = K.missionCompletions(mid)
if ARGV[5] == '1' then
  redis.call('LTRIM', list, tonumber(ARGV[4]), -1)
  return { 'ok' }
end
local out = { 'ok' }
for _, id in ipairs(redis.call('LRANGE', list, 0, tonumber(ARGV[4]) - 1)) do out[#out + 1] = id end
return out
