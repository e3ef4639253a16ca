-- Lease up to `limit` due pending jobs of the given types in order (priority, run_at, id).
-- ARGV: prefix, now, owner, token, expires, limit, again ('1' when retrying a call whose
-- reply was lost), types...
local now, owner, token, expires, limit, again =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local nnow = tonumber(now)

if again == '1' then
  -- The first try may have claimed already: those jobs carry this call's token.
  local mine = {}
  for _, id in ipairs(redis.call('ZRANGE', P .. 'leases', 0, -1)) do
    if redis.call('HGET', jkey(id), 'lease_token') == token then
      mine[#mine + 1] = id
    end
  end
  if #mine > 0 then
    local rows = {}
    for _, id in ipairs(mine) do
      rows[#rows + 1] = read(id)
    end
    return rows
  end
end

-- Delayed jobs that are due now move to their type's ready set.
local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now)
if #due > 0 then
  for _, id in ipairs(due) do
    local f = redis.call('HMGET', jkey(id), 'type', 'priority', 'rk')
    redis.call('ZADD', P .. 'ready:' .. f[1], f[2], f[3] .. pad(id))
  end
  redis.call('ZREMRANGEBYSCORE', P .. 'delayed', '-inf', now)
end

local claimed = {}
while #claimed < limit do
  -- The next candidates of every type, merged in claim order.
  local want = limit - #claimed
  local candidates = {}
  for i = 8, #ARGV do
    local ready = P .. 'ready:' .. ARGV[i]
    local range = redis.call('ZRANGE', ready, 0, want - 1, 'WITHSCORES')
    for j = 1, #range, 2 do
      candidates[#candidates + 1] = { tonumber(range[j + 1]), range[j], ready, ARGV[i] }
    end
  end
  if #candidates == 0 then
    break
  end
  table.sort(candidates, function(a, b)
    if a[1] ~= b[1] then
      return a[1] < b[1]
    end
    return a[2] < b[2]
  end)
  local taken = {} -- ready key -> members taken this round, removed before the next
  local demoted = false
  for k = 1, math.min(want, #candidates) do
    local c = candidates[k]
    local members = bucket(taken, c[3])
    members[#members + 1] = c[2]
    local id = tostring(tonumber(string.sub(c[2], 17)))
    local row = read(id)
    local run_at = row[8]
    if tonumber(run_at) > nnow then
      -- The clock went back since this job was made ready: not due after all.
      redis.call('ZADD', P .. 'delayed', run_at, id)
      demoted = true
      break
    end
    local attempts = tonumber(row[6]) + 1
    redis.call('HSET', jkey(id), 'status', 'processing', 'started_at', now, 'lease_owner',
      owner, 'lease_token', token, 'lease_expires_at', expires, 'attempts', attempts)
    -- No longer pending (indexed by the lease only): written once per key for the batch.
    later_zrem(P .. 'pend:' .. c[4], id)
    later_zrem(P .. 'st:pending', id)
    later_count('pending', c[4], -1)
    later_zadd(P .. 'leases', expires, id)
    -- The row as it now is (read once, before the write): see FIELDS for the positions.
    row[5], row[6], row[10], row[16], row[17], row[18] =
      'processing', attempts, now, owner, expires, token
    claimed[#claimed + 1] = row
  end
  for ready, members in pairs(taken) do
    zrem_many(ready, members)
  end
  if not demoted and #candidates <= want then
    break
  end
end
flush_later()

return claimed
