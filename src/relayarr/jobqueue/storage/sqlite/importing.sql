-- Receiving jobs moved from another engine (relayarr queue move): stored as they are.

-- name: job_present
-- Is this id taken, active or in history?
SELECT 1 FROM job_queue WHERE id = ? UNION ALL SELECT 1 FROM job_history WHERE id = ?

-- name: unique_holder
-- The active job holding a unique key, if any.
SELECT id FROM job_queue WHERE unique_key = ?

-- name: import_pending
-- Store a pending job under its own id, with its attempts and history so far.
INSERT INTO job_queue (id, type, payload, priority, status, attempts, max_attempts, run_at,
                       created_at, started_at, last_error, unique_key, parent_id, rescues)
VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: import_finished
-- Store a finished job in history under its own id.
INSERT INTO job_history (id, type, payload, priority, status, attempts, max_attempts, run_at,
                         created_at, started_at, finished_at, last_error, unique_key,
                         parent_id, lease_owner, rescues, result)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
