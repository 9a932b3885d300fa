-- Update a work item under the dispatcher's lease. Options: mission, token, item, status ('' =
-- keep), del (csv fields), eventType, eventText; then the list: field pairs to set.
-- An item that becomes done is counted and its dependents promoted.
-- Returns {'lost'} | {'missing'} | {'ok', previousStatus, promoted}.
local o, fields = options()
local mid, token, iid, to = o.mission, o.token, o.item, o.status
if not lease_ok(mid, token) then return { 'lost' } end
local ikey = K.missionItem(mid, iid)
local from = redis.call('HGET', ikey, 'status')
if not from then return { 'missing' } end
if #ARGV >= fields then redis.call('HSET', ikey, unpack(ARGV, fields)) end
hdel_csv(ikey, o.del)
local promoted = 0
if to ~= '' and to ~= from then
  redis.call('HSET', ikey, 'status', to, 'updatedAt', NOW)
  index_item(mid, iid, from, to)
  if to == 'done' then promoted = promote_dependents(mid, iid) end
end
-- An item that is (still) live is checked against its task at the next tick.
local st = to ~= '' and to or from
if st == 'assigned' or st == 'running' then redis.call('SADD', K.missionTouched(mid), iid) end
if o.eventType ~= '' then emit({ by = token, type = o.eventType, mission = mid, state = to ~= '' and to or from, prev = (to ~= '' and to ~= from) and from or nil, text = o.eventText }) end
return { 'ok', from, promoted }
