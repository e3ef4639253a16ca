-- Append events to the shared log, in order, each under a new id; trim to about the
-- newest `retention`. ARGV: prefix, retention, then two values per event: head, data.
-- The log is the stream P.."events"; its entry ids are "n-0" where n comes from the INCR
-- counter P.."events:ids", so the integer id a reader sees is the entry id's first part.
-- Wakes waiting followers through the wake-up channel (see wake()).
local retention = ARGV[2]
local stream = P .. 'events'
for i = 3, #ARGV, 2 do
  local n = redis.call('INCR', P .. 'events:ids')
  redis.call('XADD', stream, 'MAXLEN', '~', retention, string.format('%d-0', n), 'h', ARGV[i], 'd', ARGV[i + 1])
end
if #ARGV >= 3 then
  wake()
end
return #ARGV - 2
