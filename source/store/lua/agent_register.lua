-- Register a new agent. Options: id, name, fields (JSON object of hash fields), hbTtlMs (a first
-- heartbeat, so the agent is not taken for dead before its worker is up; 0 = none).
-- Returns {'ok'} or {'taken', existingId, existingState}.
local o = options()
local id, name = o.id, o.name
local lname = string.lower(name)
local existing = redis.call('HGET', K.agentNames, lname)
if existing and redis.call('EXISTS', K.agent(existing)) == 1 then
  return { 'taken', existing, redis.call('HGET', K.agent(existing), 'state') or '' }
end
local fields = cjson.decode(o.fields)
hset_table(K.agent(id), fields)
redis.call('SADD', K.agents, id)
if tonumber(o.hbTtlMs) > 0 then redis.call('SET', K.heartbeat(id), NOW, 'PX', tonumber(o.hbTtlMs)) end
redis.call('HSET', K.agentNames, lname, id)
emit({ type = 'agent.spawned', agent = id, state = fields.state, text = name .. ' (' .. (fields.cli or '?') .. ')' })
return { 'ok' }
