-- Move an agent to a new state if its current state allows it.
-- Options: id, to, allowedFrom (csv), set (JSON object of fields), del (csv of fields), stop
--   ('set'|'clear'|''), stopTtlSecs, eventType, eventText.
-- Returns {'ok', previousState} | {'illegal', currentState} | {'missing'}.
local o = options()
local id, to = o.id, o.to
local key = K.agent(id)
local cur = redis.call('HGET', key, 'state')
if not cur then return { 'missing' } end
if not csv_set(o.allowedFrom)[cur] then return { 'illegal', cur } end
local set = cjson.decode(o.set)
set.state = to
set.updatedAt = NOW
hset_table(key, set)
hdel_csv(key, o.del)
if o.stop == 'set' then
  redis.call('SET', K.stop(id), '1', 'EX', tonumber(o.stopTtlSecs))
elseif o.stop == 'clear' then
  redis.call('DEL', K.stop(id))
end
-- Wake the agent's worker if it is blocked, so it sees the change now.
redis.call('LPUSH', K.wake(id), '1')
redis.call('LTRIM', K.wake(id), 0, 0)
local etype = o.eventType
if cur ~= to or etype ~= 'agent.state' then
  emit({ type = etype, agent = id, state = to, prev = cur, text = nz(o.eventText) })
end
return { 'ok', cur }
