-- Events from entry id ARGV[2] ("after_id + 1"-0) on, oldest first, at most ARGV[3]: a flat
-- list of id, head, data per event. ARGV: prefix, start, limit.
local out = {}
local start = ARGV[2]
for _, entry in ipairs(redis.call('XRANGE', P .. 'events', start, '+', 'COUNT', ARGV[3])) do
  local id = string.match(entry[1], '^(%d+)-')
  local f = entry[2]
  local head, data
  for j = 1, #f, 2 do
    if f[j] == 'h' then
      head = f[j + 1]
    elseif f[j] == 'd' then
      data = f[j + 1]
    end
  end
  out[#out + 1] = id
  out[#out + 1] = head
  out[#out + 1] = data
end
return out
