-- A dispatcher's lease on a mission (a fencing token). Options: mission, token, ttlMs, release
-- ('1' = give it up). Returns {'acquired'|'renewed'|'released'} or {'held', holder}.
local o = options()
local token = o.token
local key = K.missionLease(o.mission)
local holder = redis.call('GET', key)
if o.release == '1' then
  if holder == token then redis.call('DEL', key) end
  return { 'released' }
end
if holder == token then
  redis.call('PEXPIRE', key, tonumber(o.ttlMs))
  return { 'renewed' }
end
if holder then return { 'held', holder } end
redis.call('SET', key, token, 'PX', tonumber(o.ttlMs))
return { 'acquired' }
