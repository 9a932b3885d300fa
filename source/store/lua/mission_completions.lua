-- Take a dispatcher's batch of finished mission tasks under its lease (they stay in the list
-- until removed with done = '1' after they were applied). Options: mission, token, max, done
-- ('1': remove the first `max`). Returns {'lost'} | {'ok', taskIds...}.
local o = options()
local mid, token = o.mission, o.token
if not lease_ok(mid, token) then return { 'lost' } end
local list = K.missionCompletions(mid)
if o.done == '1' then
  redis.call('LTRIM', list, tonumber(o.max), -1)
  return { 'ok' }
end
local out = { 'ok' }
for _, id in ipairs(redis.call('LRANGE', list, 0, tonumber(o.max) - 1)) do out[#out + 1] = id end
return out
