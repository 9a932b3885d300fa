-- Events: emit records a change in the town's stream and in the streams of the agent and the
-- mission it concerns, in the same script as the change.

local TOWN_EVENTS_MAX = 10000
local SCOPED_EVENTS_MAX = 1000

-- Append one event to the town stream and to the streams of the agent and mission it concerns.
local function emit(e)
  for k, v in pairs(e) do if v == false or v == '' then e[k] = nil end end
  e.ts = NOW
  local data = cjson.encode(e)
  redis.call('XADD', K.events, 'MAXLEN', '~', TOWN_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  if nz(e.agent) then
    redis.call('XADD', K.agentEvents(e.agent), 'MAXLEN', '~', SCOPED_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  end
  if nz(e.mission) then
    redis.call('XADD', K.missionEvents(e.mission), 'MAXLEN', '~', SCOPED_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  end
end
