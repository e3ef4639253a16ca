-- Move a leased job to history as completed and add its follow-ups, all or nothing.
-- ARGV: prefix, now, id, token, has_result ('1'/'0'), result, again, want_row ('0' when
-- the caller knows the job already), then follow-ups as for add (from ARGV[9]).
-- Returns {job fields or false, added} or false when the lease is lost.
local now, id, token, has_result, result, again, want_row =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local key = jkey(id)
local held = holds(id, token, now)
if not held then
  if again == '1' and already(id, token, 'complete') then
    -- The first try applied: answer as it did, from what it recorded.
    local added = {}
    local fups = redis.call('HGET', key, 'fups')
    if fups then
      for created, child in string.gmatch(fups, '(%d):(%d+)') do
        added[#added + 1] = tonumber(created)
        added[#added + 1] = created == '1' and tonumber(child) or read(child)
      end
    end
    return { read(id), added }
  end
  return false
end
archive(id, 'completed', now, false, has_result == '1' and result, token, 'complete', held)
local added = add_jobs(9, now)
local fups = {}
for i = 1, #added, 2 do
  local child = added[i + 1]
  if type(child) == 'table' then
    child = child[1]
  end
  fups[#fups + 1] = added[i] .. ':' .. child
end
if #fups > 0 then
  redis.call('HSET', key, 'fups', table.concat(fups, ','))
end
return { want_row == '1' and read(id), added }
