-- What the stats are made of (see answers.py): counts by status and type (processing ones
-- from the leases), the run_at of the pending job due longest, the jobs finished since a
-- moment. ARGV: prefix, now, since.
-- Returns {counts (flat: status.."\t"..type, n), oldest run_at or false, finished}.
local now, since = tonumber(ARGV[2]), ARGV[3]
local counts = redis.call('HGETALL', P .. 'counts')
local running = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'leases', 0, -1)) do
  local jtype = redis.call('HGET', jkey(id), 'type')
  running[jtype] = (running[jtype] or 0) + 1
end
local oldest = false
for i = 1, #counts, 2 do
  local status, jtype = string.match(counts[i], '^([^\t]*)\t(.*)$')
  if status == 'pending' then
    local first = redis.call('ZRANGE', P .. 'pend:' .. jtype, 0, 0, 'WITHSCORES')
    if first[2] and tonumber(first[2]) <= now and (not oldest or tonumber(first[2]) <
        tonumber(oldest)) then
      oldest = first[2]
    end
  end
end
for jtype, n in pairs(running) do
  counts[#counts + 1] = 'processing\t' .. jtype
  counts[#counts + 1] = n
end
local finished = 0
for _, status in ipairs({ 'completed', 'failed', 'cancelled' }) do
  finished = finished + redis.call('ZCOUNT', P .. 'fin:' .. status, since, '+inf')
end
return { counts, oldest, finished }
