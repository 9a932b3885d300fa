-- Add a batch of work items to a mission being planned. ARGV: now, missionId, then per item:
-- id, status ('ready'|'pending'), rank, waiting-on count, #pairs, then its hash fields as pairs.
local mid = ARGV[2]
local m = K.mission(mid)
if redis.call('HGET', m, 'state') ~= 'planning' then return { 'not_planning' } end
local k, n = 3, 0
while k <= #ARGV do
  local iid, status, rank, waiting, npairs = ARGV[k], ARGV[k + 1], ARGV[k + 2], tonumber(ARGV[k + 3]), tonumber(ARGV[k + 4])
  redis.call('HSET', K.missionItem(mid, iid), unpack(ARGV, k + 5, k + 4 + npairs))
  redis.call('ZADD', K.missionItems(mid), rank, iid)
  if status == 'ready' then redis.call('ZADD', K.missionReady(mid), rank, iid) else redis.call('HSET', K.missionWaiting(mid), iid, waiting) end
  n = n + 1
  k = k + 5 + npairs
end
redis.call('HINCRBY', m, 'itemsTotal', n)
return { 'ok', n }
