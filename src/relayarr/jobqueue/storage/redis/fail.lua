-- A leased job failed: back to pending at retry_at, or to history as failed when there is
-- none. ARGV: prefix, now, id, token, error, retry_at ('' for none), rk, again.
-- Returns the job's fields, or false when the lease is lost.
local now, id, token, err, retry_at, rk, again =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local held = holds(id, token, now)
if not held then
  if again == '1' and already(id, token, 'fail') then
    return read(id)
  end
  return false
end
if retry_at == '' then
  archive(id, 'failed', now, err, false, token, 'fail', held)
else
  redis.call('HSET', jkey(id), 'last_error', err, 'ltok', token, 'lop', 'fail')
  requeue(id, retry_at, rk, now)
end
return read(id)
