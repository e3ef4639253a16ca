-- Shared by every script: prepended to each one when it is loaded (see scripts.py).
--
-- ARGV[1] is always the key prefix. Keys (P = prefix):
--   P.."ids"               INCR counter: job ids, never reused
--   P.."job:"..id          hash: one job, active or finished (status tells)
--   P.."ready:"..type      zset: due pending jobs; score priority, member rk..pad(id), where
--                          rk is the run_at sort key, so ties order by run_at then id
--   P.."delayed"           zset: pending jobs not yet moved to ready; score run_at
--   P.."pend:"..type       zset: every pending job of a type; score run_at (next_due, stats)
--   P.."leases"            zset: processing jobs; score lease_expires_at. It is their only
--                          index (no st: set, no counter): it stays as small as the number
--                          of running jobs, and claims and completions write less
--   P.."unique"            hash: unique_key -> id of the active job holding it
--   P.."st:"..status       zset: ids by status except processing; score id (listing)
--   P.."ty:"..type         zset: ids by type; score id
--   P.."par:"..parent_id   zset: ids by parent; score id
--   P.."uk:"..unique_key   zset: ids (active and finished) by unique key; score id
--   P.."fin:"..status      zset: finished jobs; score finished_at, member pad(id)
--   P.."counts"            hash: status.."\t"..type -> number of jobs (not processing)
--   P.."wake:armed"        set by a waiting process; a script that makes work due deletes
--                          it and publishes on channel P.."wake"
--   P.."events"            stream: the shared event log; entry ids "n-0", n from
--                          P.."events:ids" (INCR), so an event's integer id is n; each
--                          entry holds h (JSON [at, kind, job_id, job_type]) and d (data)
--   P.."events:ids"        INCR counter: event ids, never reused (the newest id)
-- Every time ("now", run_at, expiry) is computed by the caller from its clock and passed as
-- a string: Lua's tostring would round doubles to 14 digits, so none is printed here.

local P = ARGV[1]

-- The Job field order, as Python's Job dataclass declares them.
local FIELDS = {
  'id', 'type', 'payload', 'priority', 'status', 'attempts', 'max_attempts', 'run_at',
  'created_at', 'started_at', 'finished_at', 'last_error', 'unique_key', 'parent_id',
  'result', 'lease_owner', 'lease_expires_at', 'lease_token', 'rescues',
}

local function jkey(id)
  return P .. 'job:' .. id
end

local function pad(id)
  return string.format('%020d', tonumber(id))
end

local function read(id)
  return redis.call('HMGET', jkey(id), unpack(FIELDS))
end

local function count(status, jtype, delta)
  local field = status .. '\t' .. jtype
  if redis.call('HINCRBY', P .. 'counts', field, delta) <= 0 then
    redis.call('HDEL', P .. 'counts', field)
  end
end

-- Index a job under its new status (processing jobs are indexed by P.."leases" only).
local function enter(id, status, jtype)
  if status ~= 'processing' then
    redis.call('ZADD', P .. 'st:' .. status, id, id)
    count(status, jtype, 1)
  end
end

local function leave(id, status, jtype)
  if status ~= 'processing' then
    redis.call('ZREM', P .. 'st:' .. status, id)
    count(status, jtype, -1)
  end
end

local wake_sent = false
local function wake()
  if not wake_sent and redis.call('DEL', P .. 'wake:armed') == 1 then
    redis.call('PUBLISH', P .. 'wake', '1')
  end
  wake_sent = true
end

-- Put a pending job where claim finds it: ready when due at `now`, else delayed.
local function place(id, jtype, priority, run_at, rk, now)
  redis.call('ZADD', P .. 'pend:' .. jtype, run_at, id)
  if tonumber(run_at) <= tonumber(now) then
    redis.call('ZADD', P .. 'ready:' .. jtype, priority, rk .. pad(id))
    wake()
  else
    redis.call('ZADD', P .. 'delayed', run_at, id)
  end
end

local function unplace(id, jtype, rk)
  redis.call('ZREM', P .. 'pend:' .. jtype, id)
  redis.call('ZREM', P .. 'ready:' .. jtype, rk .. pad(id))
  redis.call('ZREM', P .. 'delayed', id)
end

-- Is this the processing job leased under `token`, with the lease unexpired at `now`?
-- Returns what archive() needs to know of it (so it need not read it again), or false.
local function holds(id, token, now)
  local f = redis.call('HMGET', jkey(id), 'type', 'status', 'unique_key', 'rk', 'lease_token',
    'lease_expires_at')
  if f[2] == 'processing' and f[5] == token and tonumber(f[6]) > tonumber(now) then
    return f
  end
  return false
end

-- Did an earlier try of this very call (same token, same operation) already apply? Only
-- asked when the caller retries after losing the connection before the reply.
local function already(id, token, op)
  local f = redis.call('HMGET', jkey(id), 'ltok', 'lop')
  return f[1] == token and f[2] == op
end

-- Values per variadic call (even): Lua's unpack fails near 8,000.
local CHUNK = 4000

-- ZREM any number of members.
local function zrem_many(key, members)
  for i = 1, #members, CHUNK do
    redis.call('ZREM', key, unpack(members, i, math.min(i + CHUNK - 1, #members)))
  end
end

-- Index writes of many jobs gathered by key and made at the end of a script, one variadic
-- call per key: each redis.call costs about a microsecond beyond its own work (a write
-- more, for propagation), so a batch of claims or completions saves most of that. Gather
-- with later_zadd, later_zrem and later_count, then call flush_later before the script
-- returns (or before it touches a job whose writes may be waiting). Only for a member that
-- nothing else in the same script reads or writes under the same key in between (the
-- removals are made before the additions).
local later_adds = {}
local later_rems = {}
local later_counts = {}

-- The list under `key` in `lists`, made empty the first time.
local function bucket(lists, key)
  local list = lists[key]
  if not list then
    list = {}
    lists[key] = list
  end
  return list
end

local function later_zadd(key, score, member)
  local list = bucket(later_adds, key)
  list[#list + 1] = score
  list[#list + 1] = member
end

local function later_zrem(key, member)
  local list = bucket(later_rems, key)
  list[#list + 1] = member
end

local function later_count(status, jtype, delta)
  local field = status .. '\t' .. jtype
  later_counts[field] = (later_counts[field] or 0) + delta
end

local function flush_later()
  for key, list in pairs(later_rems) do
    zrem_many(key, list)
  end
  for key, list in pairs(later_adds) do
    for i = 1, #list, CHUNK do
      redis.call('ZADD', key, unpack(list, i, math.min(i + CHUNK - 1, #list)))
    end
  end
  for field, delta in pairs(later_counts) do
    if delta ~= 0 and redis.call('HINCRBY', P .. 'counts', field, delta) <= 0 then
      redis.call('HDEL', P .. 'counts', field)
    end
  end
  later_adds, later_rems, later_counts = {}, {}, {}
end

-- Move an active job to history as `status` at `now`. `err` (or false) replaces
-- last_error; `result` (or false) is stored as the result; `token` and `op` (or false)
-- record which fenced write finished it (see `already`). `known` is what holds() read of
-- it, if it did; with `later` (a job this script holds the lease of) its index writes are
-- gathered for flush_later.
local function archive(id, status, now, err, result, token, op, known, later)
  local key = jkey(id)
  local f = known or redis.call('HMGET', key, 'type', 'status', 'unique_key', 'rk')
  local jtype, old, ukey, rk = f[1], f[2], f[3], f[4]
  if old == 'pending' then
    unplace(id, jtype, rk)
  elseif later then
    later_zrem(P .. 'leases', id)
  else
    redis.call('ZREM', P .. 'leases', id)
  end
  local set = { 'status', status, 'finished_at', now }
  if err then
    set[#set + 1] = 'last_error'
    set[#set + 1] = err
  end
  if result then
    set[#set + 1] = 'result'
    set[#set + 1] = result
  end
  if token then
    set[#set + 1] = 'ltok'
    set[#set + 1] = token
    set[#set + 1] = 'lop'
    set[#set + 1] = op
  end
  redis.call('HSET', key, unpack(set))
  redis.call('HDEL', key, 'lease_token', 'lease_expires_at', 'rk')
  if ukey and redis.call('HGET', P .. 'unique', ukey) == tostring(id) then
    redis.call('HDEL', P .. 'unique', ukey)
  end
  if later then
    -- Held, so processing: no status index to leave.
    later_zadd(P .. 'st:' .. status, id, id)
    later_count(status, jtype, 1)
    later_zadd(P .. 'fin:' .. status, now, pad(id))
  else
    leave(id, old, jtype)
    enter(id, status, jtype)
    redis.call('ZADD', P .. 'fin:' .. status, now, pad(id))
  end
end

-- Back to pending at run_at (retry, release, rescue): the lease is void.
local function requeue(id, run_at, rk, now)
  local key = jkey(id)
  local f = redis.call('HMGET', key, 'type', 'priority')
  redis.call('HSET', key, 'status', 'pending', 'run_at', run_at, 'rk', rk)
  redis.call('HDEL', key, 'lease_owner', 'lease_token', 'lease_expires_at')
  redis.call('ZREM', P .. 'leases', id)
  leave(id, 'processing', f[1])
  enter(id, 'pending', f[1])
  place(id, f[1], f[2], run_at, rk, now)
end

local function zadd_now(key, score, member)
  redis.call('ZADD', key, score, member)
end

-- place(), with the index writes gathered for flush_later.
local function place_later(id, jtype, priority, run_at, rk, now)
  later_zadd(P .. 'pend:' .. jtype, run_at, id)
  if tonumber(run_at) <= tonumber(now) then
    later_zadd(P .. 'ready:' .. jtype, priority, rk .. pad(id))
    wake()
  else
    later_zadd(P .. 'delayed', run_at, id)
  end
end

-- Add jobs described by ARGV[first..last], 9 values each: type, payload, priority,
-- max_attempts, run_at, rk, unique_key ('' for none), debounce ('1'/'0'), parent_id ('').
-- Returns a flat list: per job either 1, id (created) or 0, {fields} (held key).
-- A new job costs one HSET with all its fields; its index writes are gathered (the caller
-- calls flush_later) and its id comes from one INCRBY for the whole batch. An existing job
-- (a held unique key) is changed only after flush_later: it may be one made just before.
local function add_jobs(first, last, now)
  local out = {}
  local n = 0
  local ids, unique = P .. 'ids', P .. 'unique'
  local next_id, top = 0, 0 -- ids handed out, and reserved up to
  -- A single job's few writes are made at once: gathering them costs more than it saves.
  local gather = last - first > 8
  local zadd = gather and later_zadd or zadd_now
  local tally = gather and later_count or count
  local put = gather and place_later or place
  for i = first, last, 9 do
    local jtype, payload, priority, max_attempts, run_at, rk, ukey, debounce, parent =
      unpack(ARGV, i, i + 8)
    local holder = false
    if ukey ~= '' then
      holder = redis.call('HGET', unique, ukey)
    end
    if holder then
      if debounce == '1' then
        flush_later()
        local f = redis.call('HMGET', jkey(holder), 'status', 'run_at', 'type', 'priority', 'rk')
        if f[1] == 'pending' and tonumber(run_at) > tonumber(f[2]) then
          unplace(holder, f[3], f[5])
          redis.call('HSET', jkey(holder), 'run_at', run_at, 'rk', rk)
          place(holder, f[3], f[4], run_at, rk, now)
        end
      end
      out[n + 1] = 0
      out[n + 2] = read(holder)
    else
      if next_id == top then -- reserve ids for this job and every one after it
        local want = (last - i + 1) / 9
        top = redis.call('INCRBY', ids, want)
        next_id = top - want
      end
      next_id = next_id + 1
      local id = next_id
      local key = jkey(id)
      if ukey == '' and parent == '' then
        redis.call('HSET', key, 'id', id, 'type', jtype, 'payload', payload, 'priority',
          priority, 'status', 'pending', 'attempts', 0, 'max_attempts', max_attempts, 'run_at',
          run_at, 'created_at', now, 'rescues', 0, 'rk', rk)
      else
        local set = { 'id', id, 'type', jtype, 'payload', payload, 'priority', priority,
          'status', 'pending', 'attempts', 0, 'max_attempts', max_attempts, 'run_at', run_at,
          'created_at', now, 'rescues', 0, 'rk', rk }
        if ukey ~= '' then
          set[#set + 1] = 'unique_key'
          set[#set + 1] = ukey
          redis.call('HSET', unique, ukey, id)
          zadd(P .. 'uk:' .. ukey, id, id)
        end
        if parent ~= '' then
          set[#set + 1] = 'parent_id'
          set[#set + 1] = parent
          zadd(P .. 'par:' .. parent, id, id)
        end
        redis.call('HSET', key, unpack(set))
      end
      zadd(P .. 'ty:' .. jtype, id, id)
      zadd(P .. 'st:pending', id, id)
      tally('pending', jtype, 1)
      put(id, jtype, priority, run_at, rk, now)
      out[n + 1] = 1
      out[n + 2] = id
    end
    n = n + 2
  end
  if next_id < top then -- ids reserved for jobs that found their unique key held
    redis.call('DECRBY', ids, top - next_id)
  end
  return out
end

-- Remove a finished job and every index entry pointing at it.
local function forget(id)
  local key = jkey(id)
  local f = redis.call('HMGET', key, 'type', 'status', 'parent_id', 'unique_key')
  if not f[1] then
    return 0
  end
  redis.call('ZREM', P .. 'st:' .. f[2], id)
  redis.call('ZREM', P .. 'ty:' .. f[1], id)
  redis.call('ZREM', P .. 'fin:' .. f[2], pad(id))
  if f[3] then
    redis.call('ZREM', P .. 'par:' .. f[3], id)
  end
  if f[4] then
    redis.call('ZREM', P .. 'uk:' .. f[4], id)
  end
  count(f[2], f[1], -1)
  redis.call('DEL', key)
  return 1
end

-- Entry points follow, one per file.
