-- The active table holds pending and processing jobs only; finished jobs move to
-- job_history in the same transaction, so the claim path never grows with history.
-- Times are epoch seconds (double precision) from the queue's injected clock, never the
-- server's now(): tests drive time with a fake clock, and every engine stores the same.

-- Ids are never reused: every new job takes the next value, retried jobs keep theirs.
CREATE SEQUENCE job_ids AS bigint;

CREATE TABLE job_queue (
    id               bigint PRIMARY KEY,
    type             text    NOT NULL,
    payload          text    NOT NULL,  -- JSON as the queue serialised it
    priority         integer NOT NULL,
    status           text    NOT NULL CHECK (status IN ('pending', 'processing')),
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL,
    run_at           double precision NOT NULL,
    created_at       double precision NOT NULL,
    started_at       double precision,
    last_error       text,
    unique_key       text,
    parent_id        bigint,
    lease_owner      text,
    lease_token      text,
    lease_expires_at double precision,
    rescues          integer NOT NULL DEFAULT 0
);

-- The claim walks this index in claim order and stops after LIMIT rows; it holds pending
-- rows only, so neither running jobs nor history make it longer.
CREATE INDEX job_queue_claim ON job_queue (priority, run_at, id) WHERE status = 'pending';
CREATE INDEX job_queue_due ON job_queue (type, run_at) WHERE status = 'pending';
CREATE UNIQUE INDEX job_queue_unique ON job_queue (unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX job_queue_lease ON job_queue (lease_expires_at) WHERE status = 'processing';
CREATE INDEX job_queue_parent ON job_queue (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE job_history (
    id           bigint  PRIMARY KEY,  -- the id the job had in job_queue
    type         text    NOT NULL,
    payload      text    NOT NULL,
    priority     integer NOT NULL,
    status       text    NOT NULL CHECK (status IN ('completed', 'failed', 'cancelled')),
    attempts     integer NOT NULL,
    max_attempts integer NOT NULL,
    run_at       double precision NOT NULL,
    created_at   double precision NOT NULL,
    started_at   double precision,
    finished_at  double precision NOT NULL,
    last_error   text,
    unique_key   text,
    parent_id    bigint,
    lease_owner  text,
    rescues      integer NOT NULL DEFAULT 0,
    result       text
);

CREATE INDEX job_history_finished ON job_history (finished_at, id);
CREATE INDEX job_history_type ON job_history (type, status);
CREATE INDEX job_history_status ON job_history (status, id);
CREATE INDEX job_history_parent ON job_history (parent_id) WHERE parent_id IS NOT NULL;

-- Circuit breakers shared by every worker on this database.
CREATE TABLE breakers (
    name        text PRIMARY KEY,
    phase       text    NOT NULL,
    failures    integer NOT NULL,
    opened_at   double precision,
    reopen_at   double precision,
    trips       integer NOT NULL,
    probe_owner text,
    updated_at  double precision NOT NULL
);
