-- A worker (re)starts for an agent: whatever a previous incarnation held goes back (held
-- messages to the inbox, started attempts to the retry path), the heartbeat is set, the agent
-- becomes idle. Options: agent, pid, hbTtlMs, delays (csv), revive ('1': a live worker whose
-- agent was reaped comes back; a stop request still wins).
-- Returns {'ok', previousState} | {'gone'} | {'stop', state}.
local o = options()
local id, pid = o.agent, o.pid
local akey = K.agent(id)
local state = redis.call('HGET', akey, 'state')
if not state then return { 'gone' } end
local revive = o.revive == '1' and state == 'stopped' and redis.call('EXISTS', K.stop(id)) == 0
if (TERMINAL_AGENT[state] and not revive) or state == 'draining' then return { 'stop', state } end
return_held(id, false)
for _, tid in ipairs(redis.call('SMEMBERS', K.running(id))) do
  finish_task(tid, '', 'failed', 'the worker restarted during this attempt', split_csv(o.delays))
end
redis.call('SET', K.heartbeat(id), NOW, 'PX', tonumber(o.hbTtlMs))
redis.call('HSET', akey, 'pid', pid, 'lastHeartbeat', NOW, 'lastActiveAt', NOW, 'updatedAt', NOW)
redis.call('HDEL', akey, 'currentTask')
if state ~= 'idle' and state ~= 'paused' then
  redis.call('HSET', akey, 'state', 'idle')
  emit({ type = 'agent.state', agent = id, state = 'idle', prev = state,
    text = revive and ('worker pid ' .. pid .. ' is alive after all: back to work') or ('worker pid ' .. pid .. ' up') })
end
return { 'ok', state }
