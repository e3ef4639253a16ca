-- Move an active job to history as cancelled; its lease, if any, is void.
-- ARGV: prefix, now, id. Returns the job's fields, or an error word.
local now, id = ARGV[2], ARGV[3]
local status = redis.call('HGET', jkey(id), 'status')
if not status then
  return 'notfound'
end
if status ~= 'pending' and status ~= 'processing' then
  return 'finished'
end
archive(id, 'cancelled', now, false, false)
return read(id)
