-- A dispatcher's lease on a mission (a fencing token). ARGV: now, missionId, token, ttlMs,
-- release ('1' = give it up). Returns {'acquired'|'renewed'|'released'} or {'held', holder}.
local key = K.missionLease(ARGV[2])
local holder = redis.call('GET', key)
if ARGV[5] == '1' then
  if holder == ARGV[3] then redis.call('DEL', key) end
  return { 'released' }
end
if holder == ARGV[3] then
  redis.call('PEXPIRE', key, tonumber(ARGV[4]))
  return { 'renewed' }
end
if holder then return { 'held', holder } end
redis.call('SET', key, ARGV[3], 'PX', tonumber(ARGV[4]))
return { 'acquired' }
