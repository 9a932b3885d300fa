-- The town's janitor, run by workers (one at a time, behind a lock) and by tt recover:
-- 1. agents whose heartbeat key has expired are dead: their started attempts fail (and are
--    retried), their queued assignments go back to the backlog, and they are marked stopped
--    (a stopped agent's leftover started attempts fail over too);
-- 2. retries whose delay has passed move from the delayed set to the backlog.
-- ARGV: now, delays (csv), promoteLimit, reason.
-- Returns {reapedAgents, requeuedOrRetried, promoted}.
local delays = split_csv(ARGV[2])
local reaped, moved, promoted = 0, 0, 0
for _, id in ipairs(redis.call('SMEMBERS', K.agents)) do
  local akey = K.agent(id)
  local state = redis.call('HGET', akey, 'state')
  local alive = redis.call('EXISTS', K.heartbeat(id)) == 1
  if state and not alive then
    -- Started attempts fail over to the retry path; for a stopped agent too, whose worker was
    -- killed mid-round (on another machine, say).
    local name = redis.call('HGET', akey, 'name') or id
    local why = TERMINAL_AGENT[state] and ' stopped during this attempt' or ' stopped heartbeating during this attempt'
    for _, tid in ipairs(redis.call('SMEMBERS', K.running(id))) do
      finish_task(tid, '', 'failed', 'agent ' .. name .. why, delays)
      moved = moved + 1
    end
  end
  if state and not TERMINAL_AGENT[state] and not alive then
    local name = redis.call('HGET', akey, 'name') or id
    local inbox, held = K.inbox(id), K.held(id)
    local members = redis.call('ZRANGE', inbox, 0, -1)
    for _, m in ipairs(redis.call('HVALS', held)) do members[#members + 1] = m end
    for _, m in ipairs(members) do
      local ok, msg = pcall(cjson.decode, m)
      if ok and type(msg) == 'table' and msg.type == 'task_assign' and msg.taskId then
        redis.call('ZREM', inbox, m)
        if redis.call('HGET', K.task(msg.taskId), 'assignedTo') == id and requeue_task(msg.taskId, 'agent ' .. name .. ' is dead') then
          moved = moved + 1
        end
      end
    end
    -- The other messages it held go back to its inbox at their priority (for whoever reclaims it).
    return_held(id, true)
    redis.call('DEL', K.wake(id))
    redis.call('HSET', akey, 'state', 'stopped', 'updatedAt', NOW)
    redis.call('HDEL', akey, 'currentTask')
    emit({ type = 'agent.reaped', agent = id, state = 'stopped', prev = state, text = ARGV[4] })
    reaped = reaped + 1
  end
end
local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
for _, tid in ipairs(due) do
  redis.call('ZREM', K.delayed, tid)
  if redis.call('HGET', K.task(tid), 'state') == 'pending' then
    backlog_add(tid)
    emit({ type = 'task.requeued', task = tid, state = 'pending', text = 'retry due' })
    promoted = promoted + 1
  end
end
return { reaped, moved, promoted }
