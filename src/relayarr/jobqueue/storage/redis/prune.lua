-- One batch of a prune (see storage/pruning.py): delete the oldest ARGV[4] finished jobs,
-- by (finished_at, id), of the given statuses that finished before ARGV[2], or at it with
-- an id up to ARGV[3] unless that is ''. ARGV: prefix, finished, through, batch,
-- statuses... Returns how many were deleted.
local finished, through, batch = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local at = tonumber(finished)
local upto = through and finished or '(' .. finished
local victims = {}
for i = 5, #ARGV do
  local range = redis.call('ZRANGEBYSCORE', P .. 'fin:' .. ARGV[i], '-inf', upto, 'WITHSCORES',
    'LIMIT', 0, batch)
  for j = 1, #range, 2 do
    local score, id = tonumber(range[j + 1]), tonumber(range[j])
    if score < at or id <= through then
      victims[#victims + 1] = { score, id }
    end
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
  deleted = deleted + forget(tostring(victims[k][2]))
end
return deleted
