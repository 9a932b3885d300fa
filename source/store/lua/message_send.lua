-- Send a message. Options: to, message (JSON without id/to/createdAt), band, eventText.
-- Returns {'ok', messageId} | {'missing'}.
local o = options()
local to = o.to
if not agent_exists(to) then return { 'missing' } end
local msg = cjson.decode(o.message)
local mid = push_message(to, msg, tonumber(o.band))
emit({ type = 'message.sent', agent = (to ~= SUPERVISOR) and to or nil, from = msg.from, to = to, text = o.eventText })
return { 'ok', mid }
