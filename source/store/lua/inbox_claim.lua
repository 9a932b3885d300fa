-- Take up to `max` messages from an agent's inbox, best band first, into its held hash, where
-- they stay until acknowledged (or returned by the reaper if the agent dies).
-- ARGV: now, agentId, max. Returns the claimed members, in serving order.
local id, max = ARGV[2], tonumber(ARGV[3])
local inbox = K.inbox(id)
local members = redis.call('ZRANGE', inbox, 0, max - 1)
if #members == 0 then
  redis.call('DEL', K.wake(id))
  return {}
end
local held = K.held(id)
for i, m in ipairs(members) do
  redis.call('ZREM', inbox, m)
  local ok, msg = pcall(cjson.decode, m)
  local mid = (ok and type(msg) == 'table' and msg.id) or ('unreadable-' .. NOW .. '-' .. i)
  redis.call('HSET', held, mid, m)
end
if redis.call('ZCARD', inbox) == 0 then redis.call('DEL', K.wake(id)) end
return members
