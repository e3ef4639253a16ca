-- The active table holds pending and processing jobs only; finished jobs move to
-- job_history in the same transaction, so the claim path never grows with history.
CREATE TABLE job_queue (
    id               INTEGER PRIMARY KEY,  -- assigned by next_id: never reused (see id_floor)
    type             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    priority         INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'processing')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    run_at           REAL    NOT NULL,
    created_at       REAL    NOT NULL,
    started_at       REAL,
    last_error       TEXT,
    unique_key       TEXT,
    parent_id        INTEGER,
    lease_owner      TEXT,
    lease_token      TEXT,
    lease_expires_at REAL,
    rescues          INTEGER NOT NULL DEFAULT 0
);

-- The claim walks this index in claim order and stops after LIMIT rows.
CREATE INDEX job_queue_claim ON job_queue (priority, run_at, id) WHERE status = 'pending';
CREATE UNIQUE INDEX job_queue_unique ON job_queue (unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX job_queue_lease ON job_queue (lease_expires_at) WHERE status = 'processing';
CREATE INDEX job_queue_parent ON job_queue (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE job_history (
    id           INTEGER PRIMARY KEY,  -- the id the job had in job_queue
    type         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    priority     INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('completed', 'failed', 'cancelled')),
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_at       REAL    NOT NULL,
    created_at   REAL    NOT NULL,
    started_at   REAL,
    finished_at  REAL    NOT NULL,
    last_error   TEXT,
    unique_key   TEXT,
    parent_id    INTEGER,
    lease_owner  TEXT,
    rescues      INTEGER NOT NULL DEFAULT 0,
    result       TEXT
);

CREATE INDEX job_history_finished ON job_history (finished_at);
CREATE INDEX job_history_type ON job_history (type, status);
CREATE INDEX job_history_status ON job_history (status, id);
CREATE INDEX job_history_parent ON job_history (parent_id) WHERE parent_id IS NOT NULL;

-- Circuit breakers shared by every worker on this database.
CREATE TABLE breakers (
    name        TEXT PRIMARY KEY,
    phase       TEXT    NOT NULL,
    failures    INTEGER NOT NULL,
    opened_at   REAL,
    reopen_at   REAL,
    trips       INTEGER NOT NULL,
    probe_owner TEXT,
    updated_at  REAL    NOT NULL
) WITHOUT ROWID;

-- Ids are never reused. Instead of AUTOINCREMENT (a sqlite_sequence write in every commit,
-- about a third of an insert's cost) the next id is one past the largest id in either
-- table or ever pruned from history, which prune records here.
CREATE TABLE id_floor (
    high_water INTEGER NOT NULL
);
INSERT INTO id_floor (high_water) VALUES (0);
