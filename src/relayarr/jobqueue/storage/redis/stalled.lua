-- The processing jobs a rescue takes (lease expired, or owner in the dead list), by id, for
-- Python to decide each (see rescue.py). ARGV: prefix, now, dead owners...
-- Returns per job: id, lease_token, lease_expires_at (the lease it saw, to fence the store),
-- lease_owner, rescues, attempts, max_attempts, last_error.
local now = ARGV[2]
local stalled = {}
local seen = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', now)) do
  stalled[#stalled + 1] = tonumber(id)
  seen[id] = true
end
if #ARGV >= 3 then
  local dead = {}
  for i = 3, #ARGV do
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
for i, id in ipairs(stalled) do
  out[i] = redis.call('HMGET', jkey(id), 'id', 'lease_token', 'lease_expires_at',
    'lease_owner', 'rescues', 'attempts', 'max_attempts', 'last_error')
end
return out
