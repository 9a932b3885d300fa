-- Update a mission record. ARGV: now, missionId, token ('' = the operator, no lease), state
-- ('' = keep), del (csv fields), eventType, eventText, help ('' | message JSON to queue in the
-- supervisor's inbox), retire ('1' = take this mission's help prompts out of that inbox), then
-- field pairs to set. Returns {'lost'} | {'missing'} | {'ok', previousState}.
local mid, token, to = ARGV[2], ARGV[3], ARGV[4]
if token ~= '' and not lease_ok(mid, token) then return { 'lost' } end
local m = K.mission(mid)
local from = redis.call('HGET', m, 'state')
if not from then return { 'missing' } end
if #ARGV >= 10 then redis.call('HSET', m, unpack(ARGV, 10)) end
hdel_csv(m, ARGV[5])
redis.call('HSET', m, 'updatedAt', NOW)
if to ~= '' and to ~= from then
  redis.call('HSET', m, 'state', to)
  if to == 'running' or to == 'blocked' then redis.call('SADD', K.missionsActive, mid) else redis.call('SREM', K.missionsActive, mid) end
  if to == 'completed' or to == 'failed' then redis.call('DEL', K.missionTouched(mid)) end
end
if ARGV[9] == '1' then
  local inbox = K.inbox(SUPERVISOR)
  for _, member in ipairs(redis.call('ZRANGE', inbox, 0, -1)) do
    local ok, msg = pcall(cjson.decode, member)
    if ok and type(msg) == 'table' and msg.mission == mid and msg.type == 'query' then redis.call('ZREM', inbox, member) end
  end
end
if ARGV[8] ~= '' then
  local msg = cjson.decode(ARGV[8])
  push_message(SUPERVISOR, msg, 1)
end
if ARGV[6] ~= '' then emit({ by = nz(token), type = ARGV[6], mission = mid, state = to ~= '' and to or from, prev = (to ~= '' and to ~= from) and from or nil, text = ARGV[7] }) end
return { 'ok', from }
