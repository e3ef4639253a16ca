-- Move leased jobs to history as completed and add their follow-ups, each job all or
-- nothing. ARGV: prefix, now, again ('1' when retrying a call whose reply was lost), then
-- per job: id, token, has_result ('1'/'0'), result, want_row ('0' when the caller knows the
-- job already), n, and n follow-ups of 9 values each as for add.
-- Returns per job, in order: {job fields or false, added}, or false when its lease is lost.
local now, again = ARGV[2], ARGV[3]

local function complete(id, token, has_result, result, want_row, first, last)
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
  archive(id, 'completed', now, false, has_result == '1' and result, token, 'complete', held,
    true)
  local added = add_jobs(first, last, now)
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
end

local out = {}
local i = 4
while i <= #ARGV do
  local id, token, has_result, result, want_row, n = unpack(ARGV, i, i + 5)
  local first = i + 6
  i = first + 9 * tonumber(n)
  out[#out + 1] = complete(id, token, has_result, result, want_row, first, i - 1)
end
flush_later()
return out
