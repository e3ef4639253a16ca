-- Leased jobs failed: each back to pending at its retry_at, or to history as failed when it
-- has none. ARGV: prefix, now, again ('1' when retrying a call whose reply was lost), then
-- per job: id, token, error, retry_at ('' for none), rk.
-- Returns per job, in order: its fields, or false when its lease is lost.
local now, again = ARGV[2], ARGV[3]

local function fail(id, token, err, retry_at, rk)
  local held = holds(id, token, now)
  if not held then
    if again == '1' and already(id, token, 'fail') then
      return read(id)
    end
    return false
  end
  if retry_at == '' then
    archive(id, 'failed', now, err, false, token, 'fail', held, true)
  else
    redis.call('HSET', jkey(id), 'last_error', err, 'ltok', token, 'lop', 'fail')
    requeue(id, retry_at, rk, now)
  end
  return read(id)
end

local out = {}
for i = 4, #ARGV, 5 do
  out[#out + 1] = fail(unpack(ARGV, i, i + 4))
end
flush_later()
return out
