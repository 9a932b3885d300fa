-- Read only: the mission's live items (assigned or running) whose task no longer matches them,
-- for the dispatcher to reconcile: the task is gone or cancelled, it has started while the item
-- says assigned, or another agent holds it. ARGV: now, missionId, then the ids of the items to
-- look at (the live items are checked in a few short calls). This is the full sweep a dispatcher
-- makes on its first tick of a mission; later ticks check only the touched items (mission_touched).
-- Returns one JSON array per such item: [itemId, status, assignedTo, task, title, taskState,
-- taskAssignedTo] (absent fields false).
local mid = ARGV[2]
local out = {}
for k = 3, #ARGV do
  local row = item_mismatch(mid, ARGV[k])
  if row then out[#out + 1] = row end
end
return out
