-- Store jobs moved from another engine as they are, under their own ids; ids already
-- present are skipped. ARGV: prefix, now, then one JSON object per job (every value a
-- string, absent when None; see importing.py). All checks come before any write, so a
-- refusal changes nothing. Raises P.."ids" past the largest stored id.
-- Returns {'ok', stored} or {'held', id, unique_key, holder}.
local now = ARGV[2]
local jobs = {}
for i = 3, #ARGV do
  local j = cjson.decode(ARGV[i])
  if redis.call('EXISTS', jkey(j.id)) == 0 then
    if j.status == 'pending' and j.unique_key then
      local holder = redis.call('HGET', P .. 'unique', j.unique_key)
      if holder then
        return { 'held', j.id, j.unique_key, holder }
      end
    end
    jobs[#jobs + 1] = j
  end
end
local stored, top = 0, nil
for _, j in ipairs(jobs) do
  local id, key = j.id, jkey(j.id)
  if redis.call('EXISTS', key) == 0 then -- the same id twice in one call
    redis.call('HSET', key, 'id', id, 'type', j.type, 'payload', j.payload, 'priority',
      j.priority, 'status', j.status, 'attempts', j.attempts, 'max_attempts', j.max_attempts,
      'run_at', j.run_at, 'created_at', j.created_at, 'rescues', j.rescues)
    for _, name in ipairs({ 'started_at', 'last_error', 'unique_key', 'parent_id' }) do
      if j[name] then
        redis.call('HSET', key, name, j[name])
      end
    end
    if j.unique_key then
      redis.call('ZADD', P .. 'uk:' .. j.unique_key, id, id)
    end
    if j.parent_id then
      redis.call('ZADD', P .. 'par:' .. j.parent_id, id, id)
    end
    redis.call('ZADD', P .. 'ty:' .. j.type, id, id)
    if j.status == 'pending' then
      redis.call('HSET', key, 'rk', j.rk)
      if j.unique_key then
        redis.call('HSET', P .. 'unique', j.unique_key, id)
      end
      enter(id, 'pending', j.type)
      place(id, j.type, j.priority, j.run_at, j.rk, now)
    else
      redis.call('HSET', key, 'finished_at', j.finished_at)
      for _, name in ipairs({ 'result', 'lease_owner' }) do
        if j[name] then
          redis.call('HSET', key, name, j[name])
        end
      end
      enter(id, j.status, j.type)
      redis.call('ZADD', P .. 'fin:' .. j.status, j.finished_at, pad(id))
    end
    stored = stored + 1
    if not top or tonumber(id) > tonumber(top) then
      top = id
    end
  end
end
if top and tonumber(top) > tonumber(redis.call('GET', P .. 'ids') or '0') then
  redis.call('SET', P .. 'ids', top)
end
return { 'ok', stored }
