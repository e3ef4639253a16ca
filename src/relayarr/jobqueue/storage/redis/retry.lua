-- Bring a failed or cancelled job back to pending, due now, attempts and rescues reset.
-- ARGV: prefix, now, rk, id. Returns the job's fields, or {error word, detail}.
local now, rk, id = ARGV[2], ARGV[3], ARGV[4]
local key = jkey(id)
local f = redis.call('HMGET', key, 'status', 'type', 'priority', 'unique_key')
local status, jtype, priority, ukey = f[1], f[2], f[3], f[4]
if not status then
  return { 'notfound', '' }
end
if status == 'pending' or status == 'processing' then
  return { 'active', '' }
end
if status == 'completed' then
  return { 'completed', '' }
end
if ukey then
  local holder = redis.call('HGET', P .. 'unique', ukey)
  if holder then
    return { 'held', holder }
  end
  redis.call('HSET', P .. 'unique', ukey, id)
end
redis.call('ZREM', P .. 'fin:' .. status, pad(id))
redis.call('HSET', key, 'status', 'pending', 'attempts', 0, 'rescues', 0, 'run_at', now, 'rk', rk)
redis.call('HDEL', key, 'started_at', 'finished_at', 'result', 'lease_owner', 'lease_token',
  'lease_expires_at', 'ltok', 'lop', 'fups')
leave(id, status, jtype)
enter(id, 'pending', jtype)
place(id, jtype, priority, now, rk, now)
return read(id)
