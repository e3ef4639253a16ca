-- Extend a lease still held: fenced by its token and its expiry. Returns 1, or 0 if lost.
-- ARGV: prefix, now, id, token, expires
local now, id, token, expires = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not holds(id, token, now) then
  return 0
end
redis.call('HSET', jkey(id), 'lease_expires_at', expires)
redis.call('ZADD', P .. 'leases', expires, id)
return 1
