-- Remove an agent and its keys. ARGV: now, id, onlyStates (csv; '' = any state).
-- Returns {'ok', state} | {'skip', state} | {'missing'}.
local id = ARGV[2]
local key = P .. 'agent:' .. id
local st = redis.call('HGET', key, 'state')
local name = redis.call('HGET', key, 'name')
if not st and redis.call('SISMEMBER', P .. 'agents', id) == 0 then return { 'missing' } end
if ARGV[3] ~= '' and not csv_set(ARGV[3])[st or ''] then return { 'skip', st } end
redis.call('DEL', key, P .. 'inbox:' .. id, P .. 'wake:' .. id, P .. 'held:' .. id, P .. 'stop:' .. id, P .. 'activity:' .. id,
  P .. 'events:agent:' .. id, P .. 'hb:' .. id, P .. 'running:' .. id)
redis.call('SREM', P .. 'agents', id)
if name and redis.call('HGET', P .. 'agents:names', string.lower(name)) == id then
  redis.call('HDEL', P .. 'agents:names', string.lower(name))
end
emit({ type = 'agent.pruned', text = (name or id) .. ' (' .. (st or 'unreadable') .. ')' })
return { 'ok', st or '' }
