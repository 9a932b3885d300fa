-- Queue an operator's control note, or (with a token) mark one applied.
-- ARGV: now, missionId, noteId, note JSON, token ('' = queue it), tick, effect.
-- Returns {'ok'} | {'missing'} | {'lost'}.
local mid, nid = ARGV[2], ARGV[3]
local m = mission_key(mid)
if redis.call('EXISTS', m) == 0 then return { 'missing' } end
if ARGV[5] == '' then
  redis.call('HSET', m .. ':notes', nid, ARGV[4])
  redis.call('RPUSH', m .. ':notes:pending', nid)
  redis.call('LPUSH', P .. 'dispatch:wake', '1')
  redis.call('LTRIM', P .. 'dispatch:wake', 0, 0)
  local note = cjson.decode(ARGV[4])
  emit({ type = 'mission.note', mission = mid, state = 'queued', from = note.sender, text = note.body })
  return { 'ok' }
end
if not lease_ok(mid, ARGV[5]) then return { 'lost' } end
redis.call('HSET', m .. ':notes', nid, ARGV[4])
redis.call('LREM', m .. ':notes:pending', 0, nid)
emit({ by = ARGV[5], type = 'mission.note', mission = mid, state = 'applied', text = 'at tick ' .. ARGV[6] .. ': ' .. ARGV[7] })
return { 'ok' }
