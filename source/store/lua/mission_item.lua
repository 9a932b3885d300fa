-- Update a work item under the dispatcher's lease. ARGV: now, missionId, token, itemId,
-- status ('' = keep), del (csv fields), eventType, eventText, then field pairs to set.
-- An item that becomes done is counted and its dependents promoted.
-- Returns {'lost'} | {'missing'} | {'ok', previousStatus, promoted}.
local mid, token, iid, to = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not lease_ok(mid, token) then return { 'lost' } end
local ikey = K.missionItem(mid, iid)
local from = redis.call('HGET', ikey, 'status')
if not from then return { 'missing' } end
if #ARGV >= 9 then redis.call('HSET', ikey, unpack(ARGV, 9)) end
hdel_csv(ikey, ARGV[6])
local promoted = 0
if to ~= '' and to ~= from then
  redis.call('HSET', ikey, 'status', to, 'updatedAt', NOW)
  index_item(mid, iid, from, to)
  if to == 'done' then promoted = promote_dependents(mid, iid) end
end
-- An item that is (still) live is checked against its task at the next tick.
local st = to ~= '' and to or from
if st == 'assigned' or st == 'running' then redis.call('SADD', K.missionTouched(mid), iid) end
if ARGV[7] ~= '' then emit({ by = token, type = ARGV[7], mission = mid, state = to ~= '' and to or from, prev = (to ~= '' and to ~= from) and from or nil, text = ARGV[8] }) end
return { 'ok', from, promoted }
