-- Send a message. ARGV: now, to, message (JSON without id/to/createdAt), band, eventText.
-- Returns {'ok', messageId} | {'missing'}.
local to = ARGV[2]
if not agent_exists(to) then return { 'missing' } end
local msg = cjson.decode(ARGV[3])
local mid = push_message(to, msg, tonumber(ARGV[4]))
emit({ type = 'message.sent', agent = (to ~= SUPERVISOR) and to or nil, from = msg.from, to = to, text = ARGV[5] })
return { 'ok', mid }
