-- Give a leased job back unrun: pending and due at run_at, this attempt not counted; a
-- note (has_note '1') replaces the last error, else the earlier attempt's error stays.
-- ARGV: prefix, now, id, token, rk, again, run_at, has_note, note.
-- Returns the job's fields, or false.
local now, id, token, rk, again = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local run_at, has_note, note = ARGV[7], ARGV[8], ARGV[9]
if not holds(id, token, now) then
  if again == '1' and already(id, token, 'release') then
    return read(id)
  end
  return false
end
redis.call('HINCRBY', jkey(id), 'attempts', -1)
redis.call('HDEL', jkey(id), 'started_at')
if has_note == '1' then
  redis.call('HSET', jkey(id), 'last_error', note)
end
requeue(id, run_at, rk, now)
redis.call('HSET', jkey(id), 'ltok', token, 'lop', 'release')
return read(id)
