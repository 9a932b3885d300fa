-- Queue an operator's control note, or (with a token) mark one applied.
-- Options: mission, note (its id), json (the note), token ('' = queue it), tick, effect.
-- Returns {'ok'} | {'missing'} | {'lost'}.
local o = options()
local mid, nid, token = o.mission, o.note, o.token
local m = K.mission(mid)
if redis.call('EXISTS', m) == 0 then return { 'missing' } end
if token == '' then
  redis.call('HSET', K.missionNotes(mid), nid, o.json)
  redis.call('RPUSH', K.missionNotesPending(mid), nid)
  redis.call('LPUSH', K.dispatchWake, '1')
  redis.call('LTRIM', K.dispatchWake, 0, 0)
  local note = cjson.decode(o.json)
  emit({ type = 'mission.note', mission = mid, state = 'queued', from = note.sender, text = note.body })
  return { 'ok' }
end
if not lease_ok(mid, token) then return { 'lost' } end
redis.call('HSET', K.missionNotes(mid), nid, o.json)
redis.call('LREM', K.missionNotesPending(mid), 0, nid)
emit({ by = token, type = 'mission.note', mission = mid, state = 'applied', text = 'at tick ' .. o.tick .. ': ' .. o.effect })
return { 'ok' }
