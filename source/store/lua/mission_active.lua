-- Read only: the mission's live items (assigned or running) whose task no longer matches them,
-- for the dispatcher to reconcile: the task is gone or cancelled, it has started while the item
-- says assigned, or another agent holds it. ARGV: now, missionId, then the ids of the items to
-- look at (the live items are checked in a few short calls).
-- Returns one JSON array per such item: [itemId, status, assignedTo, task, title, taskState,
-- taskAssignedTo] (absent fields false).
local mid = ARGV[2]
local out = {}
local items, tasks = mission_key(mid) .. ':item:', P .. 'task:'
for k = 3, #ARGV do
  local iid = ARGV[k]
  local f = redis.call('HMGET', items .. iid, 'status', 'assignedTo', 'task')
  local st, agent, tid = f[1], nz(f[2]), nz(f[3])
  if st == 'assigned' or st == 'running' then
    local t = { false, false }
    if tid then t = redis.call('HMGET', tasks .. tid, 'state', 'assignedTo') end
    local tst, tagent = t[1], nz(t[2])
    if tst == 'in_flight' then tst = 'running' end
    if not tst or tst == 'cancelled' or (tst == 'running' and st == 'assigned') or (tagent and tagent ~= agent) then
      out[#out + 1] = cjson.encode({ iid, st, agent or false, tid or false, redis.call('HGET', items .. iid, 'title') or false, tst, tagent or false })
    end
  end
end
return out
