-- A bounded log of queue events shared by every process on this database, so a web node
-- sees what workers elsewhere do. Appenders take an advisory lock held until commit (see
-- queries.sql, append_events), so ids are handed out in commit order: a reader that has
-- seen id N will never later find a smaller id appear. Trimming keeps the newest rows;
-- the identity only grows, so an id is never handed out twice.
CREATE TABLE event_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       double precision NOT NULL,  -- epoch seconds from the queue's clock
    kind     text NOT NULL,
    job_id   bigint,
    job_type text,
    data     text NOT NULL  -- a JSON object as the queue serialised it (like job payloads)
);
