-- Receiving jobs moved from another engine (relayarr queue move): stored as they are.

-- name: present_ids
-- Which of these ids are taken, active or in history?
SELECT id FROM job_queue WHERE id = ANY($1::bigint[])
UNION ALL
SELECT id FROM job_history WHERE id = ANY($1::bigint[])

-- name: unique_holder
-- The active job holding a unique key, if any.
SELECT id FROM job_queue WHERE unique_key = $1

-- name: import_pending
-- Store a pending job under its own id, with its attempts and history so far.
INSERT INTO job_queue (id, type, payload, priority, status, attempts, max_attempts, run_at,
                       created_at, started_at, last_error, unique_key, parent_id, rescues)
VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $13)

-- name: import_finished
-- Store a finished job in history under its own id.
INSERT INTO job_history (id, type, payload, priority, status, attempts, max_attempts, run_at,
                         created_at, started_at, finished_at, last_error, unique_key,
                         parent_id, lease_owner, rescues, result)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)

-- name: raise_job_ids
-- Move the id sequence past the largest imported id, so it is never handed out again.
SELECT setval('job_ids', greatest($1::bigint, (SELECT last_value FROM job_ids)))
