-- Every statement the PostgreSQL engine runs (asyncpg placeholders $1, $2...). Job rows
-- come back in the field order of Job (see storage/sql.py): active rows pad finished_at/result,
-- history rows pad the lease expiry and token.

-- name: create_migrations_table
-- Where applied schema migrations are recorded.
CREATE TABLE IF NOT EXISTS jobqueue_migrations (
    version    integer PRIMARY KEY,
    name       text    NOT NULL,
    applied_at double precision NOT NULL
)

-- name: migration_lock
-- Serialise migrators of this database (session-level advisory lock, any process).
SELECT pg_advisory_lock($1)

-- name: migration_unlock
-- Let the next migrator in.
SELECT pg_advisory_unlock($1)

-- name: applied_migrations
-- Versions already applied.
SELECT version FROM jobqueue_migrations ORDER BY version

-- name: record_migration
-- Mark one migration applied (same transaction as the migration itself).
INSERT INTO jobqueue_migrations (version, name, applied_at) VALUES ($1, $2, $3)

-- name: schema_version
-- The newest applied migration, NULL when the table exists but is empty.
SELECT max(version) FROM jobqueue_migrations

-- name: has_migrations_table
-- Whether this database was ever migrated by relayarr.
SELECT to_regclass('jobqueue_migrations') IS NOT NULL

-- name: insert_job
-- Store one new job without a unique key under a fresh id; notify (at commit) when $8.
-- The id is all that comes back; pg_notify returns nothing worth reading (void).
INSERT INTO job_queue (id, type, payload, priority, status, max_attempts, run_at,
                       created_at, parent_id)
VALUES (nextval('job_ids'), $1, $2, $3, 'pending', $4, $5, $7, $6)
RETURNING id, CASE WHEN $8::boolean THEN pg_notify('relayarr_jobqueue', '')::text END

-- name: insert_jobs
-- Store new jobs without unique keys under fresh ids, in input order (created at $7, per
-- job: the adds of several callers may share the statement); notify when $8.
WITH new AS MATERIALIZED (
    SELECT nextval('job_ids') AS id, n.*
    FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::float8[], $6::bigint[],
                $7::float8[])
         WITH ORDINALITY AS n(type, payload, priority, max_attempts, run_at, parent_id,
                              created_at, ord)
), inserted AS (
    INSERT INTO job_queue (id, type, payload, priority, status, max_attempts, run_at,
                           created_at, parent_id)
    SELECT id, type, payload, priority, 'pending', max_attempts, run_at, created_at,
           parent_id
    FROM new
), notified AS MATERIALIZED (
    SELECT count(pg_notify('relayarr_jobqueue', '')) AS sent WHERE $8::boolean
)
SELECT new.id FROM new, notified ORDER BY new.ord

-- name: insert_unique
-- Store one job with a unique key unless an active job holds the key; its id, or nothing.
WITH inserted AS (
    INSERT INTO job_queue (id, type, payload, priority, status, max_attempts, run_at,
                           created_at, unique_key, parent_id)
    VALUES (nextval('job_ids'), $1, $2, $3, 'pending', $4, $5, $8, $6, $7)
    ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
    RETURNING id
), notified AS MATERIALIZED (
    SELECT count(pg_notify('relayarr_jobqueue', '')) AS sent
    WHERE $9::boolean AND EXISTS (SELECT 1 FROM inserted)
)
SELECT inserted.id FROM inserted, notified

-- name: find_unique
-- The active job holding a unique key, if any.
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text, lease_owner,
       lease_expires_at, lease_token, rescues
FROM job_queue WHERE unique_key = $1

-- name: debounce
-- Push a pending job's run_at later (never earlier); the job, if it moved.
UPDATE job_queue SET run_at = $1
WHERE id = $2 AND status = 'pending' AND run_at < $1
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text,
          lease_owner, lease_expires_at, lease_token, rescues

-- name: claim
-- Lease up to $3 due pending jobs of types $2 in claim order. The MATERIALIZED CTE picks
-- and locks exactly the rows to take, so the planner cannot re-run it and take more;
-- SKIP LOCKED lets concurrent claimers pass each other instead of queueing. The update
-- finds them by primary key (= ANY of an array): a join with the CTE let generic plans,
-- which guess LIMIT $3 at a tenth of the table, hash-join against a scan of all of it.
-- The claim alone commits without waiting for its WAL flush: set_config(..., true) lasts
-- until this statement's own commit (no extra round trip), and runs only for jobs picked.
-- A claim lost in a server crash leaves its jobs pending and the holder's fenced writes
-- are refused; any later durable commit (a completion, a heartbeat) flushes the claim
-- first, as the WAL is written in order. See docs/pgclaim.md.
WITH picked AS MATERIALIZED (
    SELECT id FROM job_queue
    WHERE status = 'pending' AND run_at <= $1 AND type = ANY($2::text[])
    ORDER BY priority, run_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE job_queue q
SET status = 'processing', attempts = q.attempts + 1, started_at = $1,
    lease_owner = $4, lease_token = $5, lease_expires_at = $6
WHERE q.id = ANY(ARRAY(
    SELECT id FROM picked WHERE set_config('synchronous_commit', 'off', true) = 'off'
))
RETURNING q.id, q.type, q.payload, q.priority, q.status, q.attempts, q.max_attempts, q.run_at,
          q.created_at, q.started_at, NULL::float8, q.last_error, q.unique_key, q.parent_id,
          NULL::text, q.lease_owner, q.lease_expires_at, q.lease_token, q.rescues

-- name: find_claimed
-- The jobs a claim leased under token $1, if it committed (looked up after a lost connection).
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text, lease_owner,
       lease_expires_at, lease_token, rescues
FROM job_queue WHERE lease_token = $1 AND status = 'processing'

-- name: next_due
-- When the earliest pending job of the given types becomes due: the first entry of each
-- type in job_queue_due (whose predicate this states), not a scan of every pending job.
SELECT min(first.run_at)
FROM unnest($1::text[]) AS t(type)
CROSS JOIN LATERAL (
    SELECT run_at FROM job_queue
    WHERE status = 'pending' AND lease_token IS NULL AND type = t.type
    ORDER BY run_at LIMIT 1
) AS first

-- name: heartbeat
-- Extend a lease that is still held: fenced by its token and its expiry.
UPDATE job_queue SET lease_expires_at = $1
WHERE id = $2 AND lease_token = $3 AND status = 'processing' AND lease_expires_at > $4

-- name: finish_leased
-- Move leased jobs (ids $1 with tokens $2, fenced by token and expiry) to history as
-- status $5 with results $3; error $4 replaces last_error unless NULL. Rows finished.
-- The rows are found by primary key (q.id = ANY($1)), never by joining first.
WITH done AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS d(id, token, result)
), taken AS (
    DELETE FROM job_queue q USING done
    WHERE q.id = ANY($1::bigint[]) AND q.id = done.id AND q.lease_token = done.token
      AND q.status = 'processing' AND q.lease_expires_at > $6
    RETURNING q.*, done.result AS new_result
)
INSERT INTO job_history (id, type, payload, priority, status, attempts, max_attempts, run_at,
                         created_at, started_at, finished_at, last_error, unique_key,
                         parent_id, lease_owner, rescues, result)
SELECT id, type, payload, priority, $5, attempts, max_attempts, run_at, created_at,
       started_at, $6, coalesce($4::text, last_error), unique_key, parent_id, lease_owner,
       rescues, new_result
FROM taken
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, finished_at, last_error, unique_key, parent_id, result, lease_owner,
          NULL::float8, NULL::text, rescues

-- name: find_finished
-- Jobs among $1 that finish_leased moved to history at $2, if it committed (looked up after
-- a lost connection: nobody else finishes them at that very instant).
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, finished_at, last_error, unique_key, parent_id, result, lease_owner,
       NULL::float8, NULL::text, rescues
FROM job_history WHERE id = ANY($1::bigint[]) AND finished_at = $2

-- name: finish_active
-- Move any active job to history as status $2 (cancel, poison); error $4 unless NULL.
WITH taken AS (
    DELETE FROM job_queue WHERE id = $1 RETURNING *
)
INSERT INTO job_history (id, type, payload, priority, status, attempts, max_attempts, run_at,
                         created_at, started_at, finished_at, last_error, unique_key,
                         parent_id, lease_owner, rescues, result)
SELECT id, type, payload, priority, $2, attempts, max_attempts, run_at, created_at,
       started_at, $3, coalesce($4::text, last_error), unique_key, parent_id, lease_owner,
       rescues, NULL
FROM taken
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, finished_at, last_error, unique_key, parent_id, result, lease_owner,
          NULL::float8, NULL::text, rescues

-- name: requeue_leased
-- A failed attempt goes back to pending at $1 with error $2, fenced by token and expiry.
UPDATE job_queue
SET status = 'pending', run_at = $1, last_error = $2,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
WHERE id = $3 AND lease_token = $4 AND status = 'processing' AND lease_expires_at > $5
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text,
          lease_owner, lease_expires_at, lease_token, rescues

-- name: release_leased
-- Give a leased job back unrun: pending, due at $1, this attempt not counted; a note ($5)
-- replaces the last error, else the earlier attempt's error stays. $4 is now.
UPDATE job_queue
SET status = 'pending', run_at = $1, attempts = attempts - 1, started_at = NULL,
    last_error = COALESCE($5::text, last_error),
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
WHERE id = $2 AND lease_token = $3 AND status = 'processing' AND lease_expires_at > $4
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text,
          lease_owner, lease_expires_at, lease_token, rescues

-- name: stalled
-- Processing jobs whose lease expired or whose owner is known dead, locked for rescue.
-- Each arm reads job_queue_lease (whose predicate it states) instead of the whole table;
-- the outer condition repeats both, so a lease renewed meanwhile is re-checked and kept.
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text, lease_owner,
       lease_expires_at, lease_token, rescues
FROM job_queue
WHERE id IN (
        SELECT id FROM job_queue
        WHERE status = 'processing' AND lease_owner IS NOT NULL AND lease_expires_at <= $1
        UNION ALL
        SELECT id FROM job_queue
        WHERE status = 'processing' AND lease_owner IS NOT NULL
          AND lease_owner = ANY($2::text[])
    )
  AND status = 'processing' AND (lease_expires_at <= $1 OR lease_owner = ANY($2::text[]))
ORDER BY id
FOR UPDATE SKIP LOCKED

-- name: rescue
-- Put a stalled job back to pending, counting the rescue and voiding its lease.
UPDATE job_queue
SET status = 'pending', run_at = $1, rescues = rescues + 1, last_error = $2,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
WHERE id = $3 AND status = 'processing'
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text,
          lease_owner, lease_expires_at, lease_token, rescues

-- name: notify
-- Wake listeners in other processes (delivered at commit, coalesced per transaction).
SELECT pg_notify('relayarr_jobqueue', '')

-- name: lease_owners
-- Distinct owners of current leases.
SELECT DISTINCT lease_owner FROM job_queue
WHERE status = 'processing' AND lease_owner IS NOT NULL

-- name: ping
-- Whether the server answers.
SELECT 1

-- name: get
-- One job by id, active or historical (one snapshot: never both, never neither mid-move).
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text, lease_owner,
       lease_expires_at, lease_token, rescues
FROM job_queue WHERE id = $1
UNION ALL
SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
       started_at, finished_at, last_error, unique_key, parent_id, result, lease_owner,
       NULL::float8, NULL::text, rescues
FROM job_history WHERE id = $1

-- name: take_history
-- Remove a failed or cancelled job from history to run it again.
DELETE FROM job_history WHERE id = $1 AND status IN ('failed', 'cancelled')
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, finished_at, last_error, unique_key, parent_id, result, lease_owner,
          NULL::float8, NULL::text, rescues

-- name: restore
-- Re-insert a job as pending under its original id, attempts reset, unless its unique
-- key is held by another active job (then nothing).
INSERT INTO job_queue (id, type, payload, priority, status, attempts, max_attempts, run_at,
                       created_at, last_error, unique_key, parent_id, rescues)
VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7, $8, $9, $10, 0)
ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
RETURNING id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
          started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text,
          lease_owner, lease_expires_at, lease_token, rescues

-- name: list
-- A page of jobs from both tables, newest first ($1 cursor, $8 limit); one snapshot.
(SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
        started_at, NULL::float8, last_error, unique_key, parent_id, NULL::text, lease_owner,
        lease_expires_at, lease_token, rescues
 FROM job_queue
 WHERE $9::boolean AND id < $1
   AND ($2::boolean OR status = ANY($3::text[]))
   AND ($4::boolean OR type = ANY($5::text[]))
   AND ($6::bigint IS NULL OR parent_id = $6)
   AND ($7::text IS NULL OR unique_key = $7)
 ORDER BY id DESC LIMIT $8)
UNION ALL
(SELECT id, type, payload, priority, status, attempts, max_attempts, run_at, created_at,
        started_at, finished_at, last_error, unique_key, parent_id, result, lease_owner,
        NULL::float8, NULL::text, rescues
 FROM job_history
 WHERE $10::boolean AND id < $1
   AND ($2::boolean OR status = ANY($3::text[]))
   AND ($4::boolean OR type = ANY($5::text[]))
   AND ($6::bigint IS NULL OR parent_id = $6)
   AND ($7::text IS NULL OR unique_key = $7)
 ORDER BY id DESC LIMIT $8)
ORDER BY 1 DESC LIMIT $8

-- name: counts
-- Counts by type and status over both tables, in one snapshot.
SELECT type, status, count(*) FROM job_queue GROUP BY type, status
UNION ALL
SELECT type, status, count(*) FROM job_history GROUP BY type, status

-- name: oldest_due
-- run_at of the job that has been due the longest.
SELECT min(run_at) FROM job_queue WHERE status = 'pending' AND run_at <= $1

-- name: finished_since
-- Jobs finished since a moment.
SELECT count(*) FROM job_history WHERE finished_at >= $1

-- name: delete_batch
-- Delete $5 history rows finished before $1 (at it too, with an id up to $2, unless that
-- is NULL): one batch of a prune (see storage/pruning.py). In no order: every row inside
-- the cut goes, and an ORDER BY would walk the finished_at index past other statuses.
DELETE FROM job_history WHERE id IN (
    SELECT id FROM job_history
    WHERE (finished_at < $1 OR (finished_at = $1 AND id <= $2::bigint))
      AND ($3::boolean OR status = ANY($4::text[]))
    LIMIT $5
)

-- name: keep_boundary
-- The finished_at/id of the newest history row beyond the ones to keep.
SELECT finished_at, id FROM job_history
WHERE ($1::boolean OR status = ANY($2::text[]))
ORDER BY finished_at DESC, id DESC LIMIT 1 OFFSET $3

-- name: breakers
-- Every breaker's state.
SELECT name, phase, failures, opened_at, reopen_at, trips, probe_owner, updated_at
FROM breakers ORDER BY name

-- name: lock_breaker
-- Serialise transitions of one breaker name until commit, also while it has no row yet
-- (FOR UPDATE alone locks nothing when there is no row to lock).
SELECT pg_advisory_xact_lock(hashtextextended('relayarr.jobqueue.breaker:' || $1, 0))

-- name: get_breaker
-- One breaker's state, locked for the transition.
SELECT name, phase, failures, opened_at, reopen_at, trips, probe_owner, updated_at
FROM breakers WHERE name = $1 FOR UPDATE

-- name: put_breaker
-- Insert or replace one breaker's state.
INSERT INTO breakers (name, phase, failures, opened_at, reopen_at, trips, probe_owner,
                      updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (name) DO UPDATE
SET phase = excluded.phase, failures = excluded.failures, opened_at = excluded.opened_at,
    reopen_at = excluded.reopen_at, trips = excluded.trips,
    probe_owner = excluded.probe_owner, updated_at = excluded.updated_at

-- name: delete_breaker
-- Forget one breaker.
DELETE FROM breakers WHERE name = $1

-- name: append_events
-- Append events (arrays $1..$5, in order) to the shared log under the appenders' lock
-- ($6), which is held until commit so that ids follow commit order; when $7, first trim
-- the log to the newest $8 events. Wakes followers in every process (at commit).
WITH locked AS MATERIALIZED (
    SELECT pg_advisory_xact_lock($6) AS held
), trimmed AS (
    DELETE FROM event_log
    WHERE $7::boolean AND id <= (SELECT max(id) FROM event_log) - $8::bigint
      AND EXISTS (SELECT 1 FROM locked)
), appended AS (
    INSERT INTO event_log (at, kind, job_id, job_type, data)
    SELECT e.at, e.kind, e.job_id, e.job_type, e.data
    FROM locked,
         unnest($1::float8[], $2::text[], $3::bigint[], $4::text[], $5::text[])
         WITH ORDINALITY AS e(at, kind, job_id, job_type, data, ord)
    ORDER BY e.ord
)
SELECT pg_notify('relayarr_events', '') FROM locked

-- name: read_events
-- Up to $2 events after id $1, oldest first.
SELECT id, at, kind, job_id, job_type, data FROM event_log WHERE id > $1 ORDER BY id LIMIT $2

-- name: last_event_id
-- The newest event's id, 0 when the log is empty.
SELECT coalesce(max(id), 0) FROM event_log
