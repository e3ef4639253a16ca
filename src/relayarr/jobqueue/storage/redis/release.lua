-- Give a leased job back unrun: pending and due now, this attempt not counted.
-- ARGV: prefix, now, id, token, rk, again. Returns the job's fields, or false.
local now, id, token, rk, again = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not holds(id, token, now) then
  if again == '1' and already(id, token, 'release') then
    return read(id)
  end
  return false
end
redis.call('HINCRBY', jkey(id), 'attempts', -1)
redis.call('HDEL', jkey(id), 'started_at')
requeue(id, now, rk, now)
redis.call('HSET', jkey(id), 'ltok', token, 'lop', 'release')
return read(id)
