-- Rescue processing jobs whose lease expired or whose owner is dead: pending again with one
-- more rescue, or failed when that passes max_rescues (poison) or the lost run was the last
-- allowed attempt. ARGV: prefix, now, rk, max_rescues, dead owners...
-- Returns the fields of every job it moved, by id.
local now, rk, max_rescues = ARGV[2], ARGV[3], tonumber(ARGV[4])
local stalled = {}
local seen = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', now)) do
  stalled[#stalled + 1] = tonumber(id)
  seen[id] = true
end
if #ARGV >= 5 then
  local dead = {}
  for i = 5, #ARGV do
    dead[ARGV[i]] = true
  end
  for _, id in ipairs(redis.call('ZRANGE', P .. 'leases', 0, -1)) do
    if not seen[id] and dead[redis.call('HGET', jkey(id), 'lease_owner')] then
      stalled[#stalled + 1] = tonumber(id)
    end
  end
end
table.sort(stalled)
local out = {}
for _, n in ipairs(stalled) do
  local id = tostring(n)
  local key = jkey(id)
  local f = redis.call('HMGET', key, 'lease_owner', 'rescues', 'attempts', 'max_attempts',
    'last_error')
  local owner, rescues = f[1] or '?', tonumber(f[2]) + 1
  local attempts, max_attempts = tonumber(f[3]), tonumber(f[4])
  if rescues > max_rescues then
    archive(id, 'failed', now, string.format(
      'poison job: its worker died or lost the lease %d times (limit %d); last owner %s',
      rescues, max_rescues, owner), false)
  elseif attempts >= max_attempts then
    archive(id, 'failed', now, string.format(
      'worker (%s) died or lost the lease during the last allowed attempt (%d of %d)',
      owner, attempts, max_attempts), false)
  else
    local err = f[5]
    if not err or err == '' then
      err = 'rescued after its worker (' .. owner .. ') stopped'
    end
    redis.call('HSET', key, 'rescues', rescues, 'last_error', err)
    requeue(id, now, rk, now)
  end
  out[#out + 1] = read(id)
end
return out
