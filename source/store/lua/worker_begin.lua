-- Begin a worker round, atomically: check the agent may work, then begin_round (prelude).
-- Options: agent, then begin_round's: maxMsgs, maxTasks, autoClaim ('1'|'0'), skills (csv),
--   generalist ('1'|'0'), tokenBase, backlogScan, retryGraceMs.
-- Returns {'stop'|'paused'|'gone'|'reaped'|'idle', state} or {'ok', json} with json =
-- {messages, tasks, stale, agent}.
local o = options()
local id = o.agent
local akey = K.agent(id)
local state = redis.call('HGET', akey, 'state')
if not state then return { 'gone', '' } end
local stopFlag = redis.call('EXISTS', K.stop(id)) == 1
-- Stopped with no stop request: the reaper took this agent for dead (a Redis outage or a long
-- pause outlived its heartbeat) while its worker lives on. The worker may come back.
if state == 'stopped' and not stopFlag then return { 'reaped', state } end
if TERMINAL_AGENT[state] or state == 'draining' or stopFlag then return { 'stop', state } end
-- A quarantined agent (its attempts kept failing fast) waits like a paused one, for tt resume.
if state == 'paused' or state == 'quarantined' then return { 'paused', state } end

local round = begin_round(id, state, o)
if not round then return { 'idle', state } end
return { 'ok', round }
