-- Create a mission record (state planning: the dispatcher leaves it alone until it is started).
-- ARGV: now, missionId, then the record's hash fields as name, value pairs.
local mid = ARGV[2]
local m = K.mission(mid)
if redis.call('EXISTS', m) == 1 then return { 'exists' } end
redis.call('HSET', m, unpack(ARGV, 3))
redis.call('ZADD', K.missions, NOW, mid)
emit({ type = 'mission.created', mission = mid, state = 'planning', text = redis.call('HGET', m, 'title') })
return { 'ok' }
