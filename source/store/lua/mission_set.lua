-- Update a mission record. Options: mission, token ('' = the operator, no lease), state ('' =
-- keep), del (csv fields), eventType, eventText, help ('' | message JSON to queue in the
-- supervisor's inbox), retire ('1' = take this mission's help prompts out of that inbox); then the
-- list: field pairs to set. Returns {'lost'} | {'missing'} | {'ok', previousState}.
local o, fields = options()
local mid, token, to = o.mission, o.token, o.state
if token ~= '' and not lease_ok(mid, token) then return { 'lost' } end
local m = K.mission(mid)
local from = redis.call('HGET', m, 'state')
if not from then return { 'missing' } end
if #ARGV >= fields then redis.call('HSET', m, unpack(ARGV, fields)) end
hdel_csv(m, o.del)
redis.call('HSET', m, 'updatedAt', NOW)
if to ~= '' and to ~= from then
  redis.call('HSET', m, 'state', to)
  if to == 'running' or to == 'blocked' then redis.call('SADD', K.missionsActive, mid) else redis.call('SREM', K.missionsActive, mid) end
  if to == 'completed' or to == 'failed' then redis.call('DEL', K.missionTouched(mid)) end
end
if o.retire == '1' then
  local inbox = K.inbox(SUPERVISOR)
  for _, member in ipairs(redis.call('ZRANGE', inbox, 0, -1)) do
    local ok, msg = pcall(cjson.decode, member)
    if ok and type(msg) == 'table' and msg.mission == mid and msg.type == 'query' then redis.call('ZREM', inbox, member) end
  end
end
if o.help ~= '' then
  local msg = cjson.decode(o.help)
  push_message(SUPERVISOR, msg, 1)
end
if o.eventType ~= '' then emit({ by = nz(token), type = o.eventType, mission = mid, state = to ~= '' and to or from, prev = (to ~= '' and to ~= from) and from or nil, text = o.eventText }) end
return { 'ok', from }
