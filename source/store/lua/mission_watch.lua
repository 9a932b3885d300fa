-- Create or update a watch under the dispatcher's lease. ARGV: now, missionId, token, watchId,
-- dueScore (ms; '+inf' when done), eventType ('' none), eventText, then field pairs.
local mid, token, wid = ARGV[2], ARGV[3], ARGV[4]
if not lease_ok(mid, token) then return { 'lost' } end
-- A watch is written whole: fields it no longer has (an old error) must not linger.
redis.call('DEL', K.missionWatch(mid, wid))
redis.call('HSET', K.missionWatch(mid, wid), unpack(ARGV, 8))
redis.call('ZADD', K.missionWatches(mid), ARGV[5], wid)
if ARGV[6] ~= '' then emit({ by = token, type = ARGV[6], mission = mid, text = ARGV[7] }) end
return { 'ok' }
