-- A bounded log of queue events shared by every process on this database, so a web node
-- sees what workers elsewhere do. Ids only grow: trimming keeps the newest rows, so the
-- largest id is never deleted and never handed out again.
CREATE TABLE event_log (
    id       INTEGER PRIMARY KEY,
    at       REAL NOT NULL,
    kind     TEXT NOT NULL,
    job_id   INTEGER,
    job_type TEXT,
    data     TEXT NOT NULL
);
