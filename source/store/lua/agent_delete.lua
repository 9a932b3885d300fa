-- Remove an agent and its keys. ARGV: now, id, onlyStates (csv; '' = any state).
-- Returns {'ok', state} | {'skip', state} | {'missing'}.
local id = ARGV[2]
local key = K.agent(id)
local st = redis.call('HGET', key, 'state')
local name = redis.call('HGET', key, 'name')
if not st and redis.call('SISMEMBER', K.agents, id) == 0 then return { 'missing' } end
if ARGV[3] ~= '' and not csv_set(ARGV[3])[st or ''] then return { 'skip', st } end
redis.call('DEL', key, K.inbox(id), K.wake(id), K.held(id), K.stop(id), K.activity(id),
  K.agentEvents(id), K.heartbeat(id), K.running(id))
redis.call('SREM', K.agents, id)
if name and redis.call('HGET', K.agentNames, string.lower(name)) == id then
  redis.call('HDEL', K.agentNames, string.lower(name))
end
emit({ type = 'agent.pruned', text = (name or id) .. ' (' .. (st or 'unreadable') .. ')' })
return { 'ok', st or '' }
