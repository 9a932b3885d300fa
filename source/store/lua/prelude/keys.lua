-- The prelude: what tt scripts share, one concern a file (keys, util, events, queues, tasks,
-- agents, missions), laid down in that order before each script (scripts.ts PRELUDE; a file uses
-- only the files before it). A script gets only the definitions it uses.
-- Convention: KEYS[1] is the town prefix "tt:{town}:" (a real key name carrying the town's hash
-- tag, so every key the script builds lives in the same cluster slot); ARGV[1] is "now" in epoch
-- milliseconds from the caller's injected clock.
local P = KEYS[1]
local NOW = tonumber(ARGV[1])

-- The key table: every key kind of docs/REDIS.md, built here and nowhere else, named as keysFor
-- names it in keys.ts (test/key-schema.test.ts checks the two build the same names). A key with
-- an id is a function of it. Each entry is one line, P, quoted text and its parameters joined by
-- `..`: the loader writes every use out inline (scripts.ts, expandKeys), so the table costs a
-- script run nothing, and a use of a kind that is not here fails when the scripts load.
local K = {}
K.meta = P .. 'town'
K.seq = P .. 'seq'
K.agents = P .. 'agents'
K.agentNames = P .. 'agents:names'
function K.agent(id) return P .. 'agent:' .. id end
function K.inbox(id) return P .. 'inbox:' .. id end
function K.wake(id) return P .. 'wake:' .. id end
function K.held(id) return P .. 'held:' .. id end
function K.running(id) return P .. 'running:' .. id end
function K.heartbeat(id) return P .. 'hb:' .. id end
function K.stop(id) return P .. 'stop:' .. id end
function K.activity(id) return P .. 'activity:' .. id end
K.tasks = P .. 'tasks'
function K.tasksIn(state) return P .. 'tasks:' .. state end
function K.task(id) return P .. 'task:' .. id end
K.backlog = P .. 'backlog'
K.backlogWake = P .. 'backlog:wake'
K.delayed = P .. 'delayed'
K.reapLock = P .. 'lock:reap'
K.missions = P .. 'missions'
K.missionsActive = P .. 'missions:active'
function K.mission(mid) return P .. 'mission:' .. mid end
function K.missionItems(mid) return P .. 'mission:' .. mid .. ':items' end
function K.missionItem(mid, iid) return P .. 'mission:' .. mid .. ':item:' .. iid end
function K.missionReady(mid) return P .. 'mission:' .. mid .. ':ready' end
function K.missionWaiting(mid) return P .. 'mission:' .. mid .. ':waiting' end
function K.missionActive(mid) return P .. 'mission:' .. mid .. ':active' end
function K.missionTouched(mid) return P .. 'mission:' .. mid .. ':touched' end
function K.missionBlocked(mid) return P .. 'mission:' .. mid .. ':blocked' end
function K.missionWatches(mid) return P .. 'mission:' .. mid .. ':watches' end
function K.missionWatch(mid, wid) return P .. 'mission:' .. mid .. ':watch:' .. wid end
function K.missionNotes(mid) return P .. 'mission:' .. mid .. ':notes' end
function K.missionNotesPending(mid) return P .. 'mission:' .. mid .. ':notes:pending' end
function K.missionCompletions(mid) return P .. 'mission:' .. mid .. ':completions' end
function K.missionLease(mid) return P .. 'mission:' .. mid .. ':lease' end
K.dispatchWake = P .. 'dispatch:wake'
K.events = P .. 'events'
function K.agentEvents(id) return P .. 'events:agent:' .. id end
function K.missionEvents(mid) return P .. 'events:mission:' .. mid end
function K.attempt(id, round) return P .. 'attempt:' .. id .. ':' .. round end
function K.taskAttempts(id) return P .. 'attempts:task:' .. id end
function K.agentAttempts(id) return P .. 'attempts:agent:' .. id end
