-- Partial indexes that only the statement they serve can use, whatever the statistics say.
--
-- Right after a burst of jobs into a table last analysed while nearly empty, the planner
-- believes almost nothing matches and picks whichever index looks narrowest: claims read
-- every due job of their types through job_queue_due and sorted them, completions read every
-- lease through job_queue_lease. Each claim and completion then cost O(queue length), and
-- draining a burst of n jobs cost O(n^2) until autovacuum analysed the table.
--
-- Each index now carries a condition that is true of every row it should hold and that only
-- its own statements state, so the planner cannot prove any other statement may use it:
-- pending jobs never hold a lease token (next_due states it; claims do not), and processing
-- jobs always have an owner (reclaim and lease_owners state it; completions do not).
DROP INDEX job_queue_due;
CREATE INDEX job_queue_due ON job_queue (type, run_at)
    WHERE status = 'pending' AND lease_token IS NULL;

DROP INDEX job_queue_lease;
CREATE INDEX job_queue_lease ON job_queue (lease_expires_at)
    WHERE status = 'processing' AND lease_owner IS NOT NULL;
