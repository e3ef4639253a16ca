-- A page of jobs, newest id first, below a cursor. ARGV: prefix, before ('' for none),
-- want, parent_id (''), unique_key (''), nstatuses, statuses..., types...
-- Walks the smallest fitting index (by parent, by key, by status or by type) newest first,
-- merging its sorted sets, and filters on the rest: a page never reads the whole history.
local before, want, parent, ukey = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local nstatuses = tonumber(ARGV[6])
local statuses, types = {}, {}
local want_status, want_type = {}, {}
for i = 7, 6 + nstatuses do
  statuses[#statuses + 1] = ARGV[i]
  want_status[ARGV[i]] = true
end
for i = 7 + nstatuses, #ARGV do
  types[#types + 1] = ARGV[i]
  want_type[ARGV[i]] = true
end
if #statuses == 0 then
  statuses = { 'pending', 'processing', 'completed', 'failed', 'cancelled' }
end

-- A source is a sorted set of ids (its key), or for processing jobs, which are indexed by
-- lease expiry only, a table of their ids (as few as the jobs running).
local function running_ids()
  local ids = redis.call('ZRANGE', P .. 'leases', 0, -1)
  for i, id in ipairs(ids) do
    ids[i] = tonumber(id)
  end
  table.sort(ids, function(a, b) return a > b end)
  return ids
end

local function keys_of(prefix, names)
  local keys, size = {}, 0
  for _, name in ipairs(names) do
    if prefix == 'st:' and name == 'processing' then
      local ids = running_ids()
      keys[#keys + 1] = ids
      size = size + #ids
    else
      keys[#keys + 1] = P .. prefix .. name
      size = size + redis.call('ZCARD', P .. prefix .. name)
    end
  end
  return keys, size
end

-- Up to `n` ids of a source below `upper` ('+inf' or '(' .. id), newest first.
local function fetch(source, upper, n)
  if type(source) == 'string' then
    return redis.call('ZREVRANGEBYSCORE', source, upper, '-inf', 'LIMIT', 0, n)
  end
  local below = upper == '+inf' and math.huge or tonumber(string.sub(upper, 2))
  local out = {}
  for _, id in ipairs(source) do
    if id < below then
      out[#out + 1] = id
      if #out == n then
        break
      end
    end
  end
  return out
end

local sources
if parent ~= '' then
  sources = { P .. 'par:' .. parent }
elseif ukey ~= '' then
  sources = { P .. 'uk:' .. ukey }
else
  local by_status, status_size = keys_of('st:', statuses)
  sources = by_status
  if #types > 0 then
    local by_type, type_size = keys_of('ty:', types)
    if type_size < status_size then
      sources = by_type
    end
  end
end

local function matches(id)
  local f = redis.call('HMGET', jkey(id), 'status', 'type', 'parent_id', 'unique_key')
  if not f[1] then
    return false
  end
  if nstatuses > 0 and not want_status[f[1]] then
    return false
  end
  if #types > 0 and not want_type[f[2]] then
    return false
  end
  if parent ~= '' and f[3] ~= parent then
    return false
  end
  if ukey ~= '' and f[4] ~= ukey then
    return false
  end
  return true
end

local STEP = math.max(want, 32)
local upper = before == '' and '+inf' or ('(' .. before)
local rows = {}
while #rows < want do
  local batch = {}
  local horizon = false -- below this id some source may hold ids not fetched yet
  for _, source in ipairs(sources) do
    local ids = fetch(source, upper, STEP)
    for _, id in ipairs(ids) do
      batch[#batch + 1] = tonumber(id)
    end
    if #ids == STEP then
      local last = tonumber(ids[STEP])
      if not horizon or last > horizon then
        horizon = last
      end
    end
  end
  if #batch == 0 then
    break
  end
  table.sort(batch, function(a, b) return a > b end)
  for _, id in ipairs(batch) do
    if horizon and id < horizon then
      break
    end
    if matches(id) then
      rows[#rows + 1] = read(id)
      if #rows == want then
        break
      end
    end
  end
  if not horizon then
    break
  end
  upper = '(' .. string.format('%d', horizon)
end
return rows
