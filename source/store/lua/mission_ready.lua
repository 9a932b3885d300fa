-- Read only: a slice of the mission's ready queue (best rank first) with what planning reads of
-- each item. Options: mission, from, to (positions, `to` excluded), max, ties ('1': when the
-- slice is full, go on past `to` through every item ranked like the last one, up to position
-- `max`, so a head read in slices is whole under ties).
-- Returns {readyCount, entries read, then one JSON array per item: [id, kind, ownerRole, caps,
-- status, rank, createdAt] (absent fields false)}.
local o = options()
local mid, from, to, max = o.mission, tonumber(o.from), tonumber(o.to), tonumber(o.max)
local key = K.missionReady(mid)
local count = redis.call('ZCARD', key)
local ids = {}
if from < to and from < count then
  local slice = redis.call('ZRANGE', key, from, to - 1, 'WITHSCORES')
  for i = 1, #slice, 2 do ids[#ids + 1] = slice[i] end
  if o.ties == '1' and from + #ids == to and to < count and to < max then
    local upto = math.min(redis.call('ZCOUNT', key, '-inf', slice[#slice]), max)
    if upto > to then
      for _, id in ipairs(redis.call('ZRANGE', key, to, upto - 1)) do ids[#ids + 1] = id end
    end
  end
end
local out = { count, #ids }
for _, iid in ipairs(ids) do
  out[#out + 1] = cjson.encode(redis.call('HMGET', K.missionItem(mid, iid), 'id', 'kind', 'ownerRole', 'caps', 'status', 'rank', 'createdAt'))
end
return out
