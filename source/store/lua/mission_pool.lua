-- Read only: the agents a dispatcher tick can give new work. An agent qualifies when its state
-- takes work (idle, working, starting) and its load (queued messages plus started tasks) is
-- below the capacity. ARGV: now, capacity, then the agent ids to look at (the pool is read in a
-- few short calls). Returns one JSON array per agent: [state, name, role, caps, createdAt, id,
-- load] (absent fields false).
local cap = tonumber(ARGV[2])
local out = {}
for k = 3, #ARGV do
  local id = ARGV[k]
  local inbox, running = K.inbox(id), K.running(id)
  -- Room for one means no queued message and no started task: neither key exists.
  local load = cap <= 1 and redis.call('EXISTS', inbox, running) or redis.call('ZCARD', inbox)
  if load < cap and cap > 1 then load = load + redis.call('SCARD', running) end
  if load < cap then
    local f = redis.call('HMGET', K.agent(id), 'state', 'name', 'role', 'caps', 'createdAt')
    if f[1] == 'idle' or f[1] == 'working' or f[1] == 'starting' then
      f[6], f[7] = id, load
      out[#out + 1] = cjson.encode(f)
    end
  end
end
return out
