-- Under the dispatcher's lease: takes items off the mission's touched set (items whose task
-- changed state or assignee, or was deleted, since the dispatcher last took them) and returns
-- those that are live and no longer match their task, as mission_active does. Taking and checking
-- are one step, so nothing touched is lost: an item touched again afterwards is on the set again.
-- ARGV: now, missionId, token, count (items to take; '0' = drop the whole set, for a full sweep
-- of the live items that follows).
-- Returns {'lost'} without the lease, else {'ok', items left on the set, rows...} (rows as
-- mission_active's).
local mid, token, count = ARGV[2], ARGV[3], tonumber(ARGV[4])
if not lease_ok(mid, token) then return { 'lost' } end
local key = K.missionTouched(mid)
if count == 0 then
  redis.call('DEL', key)
  return { 'ok', 0 }
end
local out = { 'ok', 0 }
for _, iid in ipairs(redis.call('SPOP', key, count)) do
  local row = item_mismatch(mid, iid)
  if row then out[#out + 1] = row end
end
out[2] = redis.call('SCARD', key)
return out
