-- How many times a job went back to pending (released, rescued, retried, imported). With
-- the largest job id (which every add raises) and the largest event id, it is what a
-- waiting worker or event follower in another process looks at to tell a commit that made
-- work due or appended events from one that only finished jobs or beat (see wake.py).
CREATE TABLE requeues (
    count INTEGER NOT NULL
);
INSERT INTO requeues (count) VALUES (0);
