-- Delete one batch of finished jobs: those finished before a cutoff (mode 'older'), or the
-- oldest by (finished_at, id) (mode 'oldest'). ARGV: prefix, mode, cutoff, batch,
-- statuses... Returns how many were deleted.
local mode, cutoff, batch = ARGV[2], ARGV[3], tonumber(ARGV[4])
local victims = {}
for i = 5, #ARGV do
  local fin = P .. 'fin:' .. ARGV[i]
  local range
  if mode == 'older' then
    range = redis.call('ZRANGEBYSCORE', fin, '-inf', '(' .. cutoff, 'WITHSCORES', 'LIMIT', 0,
      batch)
  else
    range = redis.call('ZRANGE', fin, 0, batch - 1, 'WITHSCORES')
  end
  for j = 1, #range, 2 do
    victims[#victims + 1] = { tonumber(range[j + 1]), range[j] }
  end
end
table.sort(victims, function(a, b)
  if a[1] ~= b[1] then
    return a[1] < b[1]
  end
  return a[2] < b[2]
end)
local deleted = 0
for k = 1, math.min(batch, #victims) do
  deleted = deleted + forget(tostring(tonumber(victims[k][2])))
end
return deleted
