-- Create or update a watch under the dispatcher's lease. Options: mission, token, watch (its
-- id), due (score, ms; '+inf' when done), eventType ('' none), eventText; then the list: its
-- field pairs.
local o, fields = options()
local mid, token, wid = o.mission, o.token, o.watch
if not lease_ok(mid, token) then return { 'lost' } end
-- A watch is written whole: fields it no longer has (an old error) must not linger.
redis.call('DEL', K.missionWatch(mid, wid))
redis.call('HSET', K.missionWatch(mid, wid), unpack(ARGV, fields))
redis.call('ZADD', K.missionWatches(mid), o.due, wid)
if o.eventType ~= '' then emit({ by = token, type = o.eventType, mission = mid, text = o.eventText }) end
return { 'ok' }
