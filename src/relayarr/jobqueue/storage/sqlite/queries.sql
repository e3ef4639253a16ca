-- Every statement the SQLite engine runs. Job rows select Job's fields in order, so one
-- mapper reads them (storage/sql.py): active rows have no finished_at or result, history
-- rows no lease expiry or token.

-- name: next_id
-- The first free id: past every id in either table and every id ever pruned.
SELECT max(coalesce((SELECT max(id) FROM job_queue), 0),
           coalesce((SELECT max(id) FROM job_history), 0),
           (SELECT high_water FROM id_floor)) + 1

-- name: insert_job
-- Store one new pending job under an id from next_id.
INSERT INTO job_queue (id, type, payload, priority, status, attempts, max_attempts, run_at,
                       created_at, unique_key, parent_id)
VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)

-- name: insert_jobs_json
-- Store many new pending jobs in one statement: ids from :first on, in array order; each
-- element [type, payload, priority, max_attempts, run_at or null for :now, unique_key,
-- parent_id]. One statement, so SQLite runs it without the GIL (see ops._insert_bulk).
INSERT INTO job_queue (id, type, payload, priority, status, attempts, max_attempts, run_at,
                       created_at, unique_key, parent_id)
SELECT :first + key, json_extract(value, '$[0]'), json_extract(value, '$[1]'),
       json_extract(value, '$[2]'), 'pending', 0, json_extract(value, '$[3]'),
       coalesce(json_extract(value, '$[4]'), :now), :now, json_extract(value, '$[5]'),
       json_extract(value, '$[6]')
FROM json_each(:rows)

-- name: insert_one_job
-- Store one new pending job under the next free id in a single statement (see next_id).
INSERT INTO job_queue (id, type, payload, priority, status, attempts, max_attempts, run_at,
                       created_at, unique_key, parent_id)
VALUES (max(coalesce((SELECT max(id) FROM job_queue), 0),
            coalesce((SELECT max(id) FROM job_history), 0),
            (SELECT high_water FROM id_floor)) + 1,
        ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)

-- name: raise_id_floor
-- Remember the largest history id before prune deletes it, so it is never handed out again.
UPDATE id_floor SET high_water = max(high_water, coalesce((SELECT max(id) FROM job_history), 0))

-- name: find_unique
-- The active job holding a unique key, if any.
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
       lease_expires_at, lease_token, rescues
FROM job_queue WHERE unique_key = ?

-- name: debounce
-- Push a pending job's run_at later (never earlier).
UPDATE job_queue SET run_at = ? WHERE id = ? AND status = 'pending' AND run_at < ?

-- name: claim
-- Lease up to :limit due pending jobs of the given types in claim order.
UPDATE job_queue
SET status = 'processing', attempts = attempts + 1, started_at = :now,
    lease_owner = :owner, lease_token = :token, lease_expires_at = :expires
WHERE id IN (
    SELECT id FROM job_queue
    WHERE status = 'pending' AND run_at <= :now
      AND type IN (SELECT value FROM json_each(:types))
    ORDER BY priority, run_at, id
    LIMIT :limit
)
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
          lease_expires_at, lease_token, rescues

-- name: wake_mark
-- What moves when work may have become due or events were appended (see wake.py): the
-- largest id in either table (an add raises it, finishing a job moves it, not changes it),
-- the requeue count, and the largest event id.
SELECT max(coalesce((SELECT max(id) FROM job_queue), 0),
           coalesce((SELECT max(id) FROM job_history), 0)),
       (SELECT count FROM requeues),
       (SELECT max(id) FROM event_log)

-- name: count_requeue
-- A job went back to pending: wakes other processes' workers (see wake_mark).
UPDATE requeues SET count = count + 1

-- name: next_due
-- When the earliest pending job of the given types becomes due.
SELECT min(run_at) FROM job_queue
WHERE status = 'pending' AND type IN (SELECT value FROM json_each(?))

-- name: heartbeat
-- Extend a lease that is still held: fenced by its token and its expiry.
UPDATE job_queue SET lease_expires_at = ?
WHERE id = ? AND lease_token = ? AND status = 'processing' AND lease_expires_at > ?

-- name: take_leased
-- Remove a leased job from the active table (fenced by token and expiry), for history.
DELETE FROM job_queue
WHERE id = ? AND lease_token = ? AND status = 'processing' AND lease_expires_at > ?
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
          lease_expires_at, lease_token, rescues

-- name: take_active
-- Remove any active job from the active table, returning it for history.
DELETE FROM job_queue WHERE id = ?
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
          lease_expires_at, lease_token, rescues

-- name: insert_history
-- Archive a finished job under its original id.
INSERT INTO job_history (id, type, payload, priority, status, attempts, max_attempts, run_at,
                         created_at, started_at, finished_at, last_error, unique_key,
                         parent_id, result, lease_owner, rescues)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: requeue_leased
-- Give a leased job back to pending (retry or release), fenced by its token.
UPDATE job_queue
SET status = 'pending', run_at = :run_at, last_error = :error,
    attempts = attempts - :uncount, started_at = CASE WHEN :uncount THEN NULL ELSE started_at END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
WHERE id = :id AND lease_token = :token AND status = 'processing' AND lease_expires_at > :now
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
          lease_expires_at, lease_token, rescues

-- name: stalled
-- Processing jobs whose lease expired or whose owner is known dead.
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
       lease_expires_at, lease_token, rescues
FROM job_queue
WHERE status = 'processing'
  AND (lease_expires_at <= ? OR lease_owner IN (SELECT value FROM json_each(?)))

-- name: rescue
-- Put a stalled job back to pending, counting the rescue and voiding its lease.
UPDATE job_queue
SET status = 'pending', run_at = ?, rescues = rescues + 1, last_error = ?,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
WHERE id = ? AND status = 'processing'
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
          lease_expires_at, lease_token, rescues

-- name: lease_owners
-- Distinct owners of current leases.
SELECT DISTINCT lease_owner FROM job_queue
WHERE status = 'processing' AND lease_owner IS NOT NULL

-- name: ping
-- A read of the schema, not a bare SELECT 1: that SQLite answers without opening the file.
SELECT 1 FROM sqlite_schema LIMIT 1

-- name: get_active
-- One active job by id.
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
       lease_expires_at, lease_token, rescues
FROM job_queue WHERE id = ?

-- name: get_history
-- One historical job by id.
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, finished_at, last_error, unique_key, parent_id, result, lease_owner,
       NULL, NULL, rescues
FROM job_history WHERE id = ?

-- name: delete_history
-- Remove one job from history (it is moving back to the active table).
DELETE FROM job_history WHERE id = ?

-- name: restore
-- Re-insert a historical job as pending under its original id, attempts reset.
INSERT INTO job_queue (id, type, payload, priority, status, attempts, max_attempts, run_at,
                       created_at, last_error, unique_key, parent_id, rescues)
VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, 0)

-- name: list_active
-- A page of active jobs, newest first.
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, NULL, last_error, unique_key, parent_id, NULL, lease_owner,
       lease_expires_at, lease_token, rescues
FROM job_queue
WHERE id < :before
  AND (:any_status OR status IN (SELECT value FROM json_each(:statuses)))
  AND (:any_type OR type IN (SELECT value FROM json_each(:types)))
  AND (:parent IS NULL OR parent_id = :parent)
  AND (:unique_key IS NULL OR unique_key = :unique_key)
ORDER BY id DESC LIMIT :limit

-- name: list_history
-- A page of historical jobs, newest first.
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, finished_at, last_error, unique_key, parent_id, result, lease_owner,
       NULL, NULL, rescues
FROM job_history
WHERE id < :before
  AND (:any_status OR status IN (SELECT value FROM json_each(:statuses)))
  AND (:any_type OR type IN (SELECT value FROM json_each(:types)))
  AND (:parent IS NULL OR parent_id = :parent)
  AND (:unique_key IS NULL OR unique_key = :unique_key)
ORDER BY id DESC LIMIT :limit

-- name: count_active
-- Active counts by type and status.
SELECT type, status, count(*) FROM job_queue GROUP BY type, status

-- name: count_history
-- History counts by type and status.
SELECT type, status, count(*) FROM job_history GROUP BY type, status

-- name: oldest_due
-- run_at of the job that has been due the longest.
SELECT min(run_at) FROM job_queue WHERE status = 'pending' AND run_at <= ?

-- name: finished_since
-- Jobs finished since a moment.
SELECT count(*) FROM job_history WHERE finished_at >= ?

-- name: delete_batch
-- Delete :batch history rows finished before :finished (at it too, with an id up to
-- :through, unless that is NULL): one batch of a prune (see storage/pruning.py).
DELETE FROM job_history WHERE id IN (
    SELECT id FROM job_history
    WHERE (finished_at < :finished OR (finished_at = :finished AND id <= :through))
      AND (:any_status OR status IN (SELECT value FROM json_each(:statuses)))
    LIMIT :batch
)

-- name: keep_boundary
-- The finished_at/id of the newest history row beyond the ones to keep.
SELECT finished_at, id FROM job_history
WHERE (:any_status OR status IN (SELECT value FROM json_each(:statuses)))
ORDER BY finished_at DESC, id DESC LIMIT 1 OFFSET :keep

-- name: breakers
-- Every breaker's state.
SELECT name, phase, failures, opened_at, reopen_at, trips, probe_owner, updated_at
FROM breakers ORDER BY name

-- name: get_breaker
-- One breaker's state.
SELECT name, phase, failures, opened_at, reopen_at, trips, probe_owner, updated_at
FROM breakers WHERE name = ?

-- name: put_breaker
-- Insert or replace one breaker's state.
INSERT OR REPLACE INTO breakers (name, phase, failures, opened_at, reopen_at, trips,
                                 probe_owner, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)

-- name: delete_breaker
-- Forget one breaker.
DELETE FROM breakers WHERE name = ?

-- name: append_event
-- Add one event to the shared log (ids are assigned by SQLite, always growing).
INSERT INTO event_log (at, kind, job_id, job_type, data) VALUES (?, ?, ?, ?, ?)

-- name: trim_events
-- Keep only the newest :keep events.
DELETE FROM event_log WHERE id <= (SELECT max(id) FROM event_log) - :keep

-- name: read_events
-- Events after an id, oldest first.
SELECT id, at, kind, job_id, job_type, data FROM event_log WHERE id > ? ORDER BY id LIMIT ?

-- name: last_event_id
-- The newest event's id.
SELECT coalesce(max(id), 0) FROM event_log
