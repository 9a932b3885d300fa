-- Move an agent to a new state if its current state allows it.
-- ARGV: now, id, to, allowedFrom (csv), set (JSON object), del (csv fields), stop ('set'|'clear'|''),
--       stopTtlSecs, eventType, eventText.
-- Returns {'ok', previousState} | {'illegal', currentState} | {'missing'}.
local id, to = ARGV[2], ARGV[3]
local key = K.agent(id)
local cur = redis.call('HGET', key, 'state')
if not cur then return { 'missing' } end
if not csv_set(ARGV[4])[cur] then return { 'illegal', cur } end
local set = cjson.decode(ARGV[5])
set.state = to
set.updatedAt = NOW
hset_table(key, set)
hdel_csv(key, ARGV[6])
if ARGV[7] == 'set' then
  redis.call('SET', K.stop(id), '1', 'EX', tonumber(ARGV[8]))
elseif ARGV[7] == 'clear' then
  redis.call('DEL', K.stop(id))
end
-- Wake the agent's worker if it is blocked, so it sees the change now.
redis.call('LPUSH', K.wake(id), '1')
redis.call('LTRIM', K.wake(id), 0, 0)
local etype = ARGV[9]
if cur ~= to or etype ~= 'agent.state' then
  emit({ type = etype, agent = id, state = to, prev = cur, text = nz(ARGV[10]) })
end
return { 'ok', cur }
