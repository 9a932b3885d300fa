-- Queues: the town's sequence, the scores of the inboxes and the backlog (band x 2^44 + sequence:
-- best band first, oldest first within a band), and a message into an agent's inbox.

local BAND = 17592186044416 -- 2^44: queue score = band * 2^44 + sequence
local PRIORITY_BAND = { critical = 0, urgent = 0, high = 1, normal = 2, low = 3 }

local function next_seq() return redis.call('INCR', K.seq) end
local function score(band, seq) return string.format('%.0f', band * BAND + seq) end

-- Queue a message (a table without id/createdAt) in an agent's inbox and wake its worker.
-- Returns the message id.
local function push_message(to, msg, band)
  local seq = next_seq()
  msg.id = 'm' .. seq
  msg.to = to
  msg.createdAt = NOW
  redis.call('ZADD', K.inbox(to), score(band, seq), cjson.encode(msg))
  redis.call('LPUSH', K.wake(to), '1')
  redis.call('LTRIM', K.wake(to), 0, 0)
  return msg.id
end
