-- Queue an operator's control note, or (with a token) mark one applied.
-- ARGV: now, missionId, noteId, note JSON, token ('' = queue it), tick, effect.
-- Returns {'ok'} | {'missing'} | {'lost'}.
local mid, nid = ARGV[2], ARGV[3]
local m = K.mission(mid)
if redis.call('EXISTS', m) == 0 then return { 'missing' } end
if ARGV[5] == '' then
  redis.call('HSET', K.missionNotes(mid), nid, ARGV[4])
  redis.call('RPUSH', K.missionNotesPending(mid), nid)
  redis.call('LPUSH', K.dispatchWake, '1')
  redis.call('LTRIM', K.dispatchWake, 0, 0)
  local note = cjson.decode(ARGV[4])
  emit({ type = 'mission.note', mission = mid, state = 'queued', from = note.sender, text = note.body })
  return { 'ok' }
end
if not lease_ok(mid, ARGV[5]) then return { 'lost' } end
redis.call('HSET', K.missionNotes(mid), nid, ARGV[4])
redis.call('LREM', K.missionNotesPending(mid), 0, nid)
emit({ by = ARGV[5], type = 'mission.note', mission = mid, state = 'applied', text = 'at tick ' .. ARGV[6] .. ': ' .. ARGV[7] })
return { 'ok' }
