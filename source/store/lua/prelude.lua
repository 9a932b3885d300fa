-- Shared by every tt script (prepended at load time).
-- Convention: KEYS[1] is the town prefix "tt:{town}:" (a real key name carrying the town's hash
-- tag, so every key the script builds lives in the same cluster slot); ARGV[1] is "now" in epoch
-- milliseconds from the caller's injected clock.
local P = KEYS[1]
local NOW = tonumber(ARGV[1])
local BAND = 17592186044416 -- 2^44: queue score = band * 2^44 + sequence
local TOWN_EVENTS_MAX = 10000
local SCOPED_EVENTS_MAX = 1000

local function nz(v) if v == false or v == nil or v == '' then return nil end return v end

-- Append one event to the town stream and to the streams of the agent and mission it concerns.
local function emit(e)
  e.ts = NOW
  local data = cjson.encode(e)
  redis.call('XADD', P .. 'events', 'MAXLEN', '~', TOWN_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  if nz(e.agent) then
    redis.call('XADD', P .. 'events:agent:' .. e.agent, 'MAXLEN', '~', SCOPED_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  end
  if nz(e.mission) then
    redis.call('XADD', P .. 'events:mission:' .. e.mission, 'MAXLEN', '~', SCOPED_EVENTS_MAX, '*', 'type', e.type, 'data', data)
  end
end

local function next_seq() return redis.call('INCR', P .. 'seq') end
local function score(band, seq) return string.format('%.0f', band * BAND + seq) end

-- Queue a message (a table without id/createdAt) in an agent's inbox and wake its worker.
-- Returns the message id.
local function push_message(to, msg, band)
  local seq = next_seq()
  msg.id = 'm' .. seq
  msg.to = to
  msg.createdAt = NOW
  redis.call('ZADD', P .. 'inbox:' .. to, score(band, seq), cjson.encode(msg))
  redis.call('LPUSH', P .. 'wake:' .. to, '1')
  redis.call('LTRIM', P .. 'wake:' .. to, 0, 0)
  return msg.id
end

local function hset_table(key, t)
  local flat = {}
  for k, v in pairs(t) do flat[#flat + 1] = k; flat[#flat + 1] = tostring(v) end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
end

local function csv_set(s)
  local set = {}
  for item in string.gmatch(s or '', '[^,]+') do set[item] = true end
  return set
end

local function hdel_csv(key, s)
  for f in string.gmatch(s or '', '[^,]+') do redis.call('HDEL', key, f) end
end

local SUPERVISOR = '00000000-0000-0000-0000-000000000001'
local TERMINAL_AGENT = { stopped = true, error = true, cold = true }

-- Whether an agent can be sent messages: the supervisor mailbox, or a known agent.
local function agent_exists(id)
  return id == SUPERVISOR or redis.call('EXISTS', P .. 'agent:' .. id) == 1
end

local function move_task_state(id, from, to)
  if from ~= to then
    redis.call('SREM', P .. 'tasks:' .. from, id)
    redis.call('SADD', P .. 'tasks:' .. to, id)
  end
end

local PRIORITY_BAND = { critical = 0, urgent = 0, high = 1, normal = 2, low = 3 }
