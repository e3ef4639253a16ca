-- Store what Python decided for stalled jobs (see stalled.lua), each fenced by the lease the
-- decision saw: a job heartbeated, finished, released or rescued by another reclaimer since
-- holds another lease or none, and is left alone.
-- ARGV: prefix, now, rk, then per job: id, lease_token, lease_expires_at, status ('pending'
-- or 'failed'), rescues (stored when pending), last_error.
-- Returns the fields of every job it moved.
local now, rk = ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV, 6 do
  local id, token, expires, status, rescues, err = unpack(ARGV, i, i + 5)
  local f = redis.call('HMGET', jkey(id), 'status', 'lease_token', 'lease_expires_at')
  if f[1] == 'processing' and f[2] == token and f[3] == expires then
    if status == 'failed' then
      archive(id, 'failed', now, err, false)
    else
      redis.call('HSET', jkey(id), 'rescues', rescues, 'last_error', err)
      requeue(id, now, rk, now)
    end
    out[#out + 1] = read(id)
  end
end
return out
