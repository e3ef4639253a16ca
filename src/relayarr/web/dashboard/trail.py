"""A job's own events, found in the shared event log: every attempt and every error.

A job row keeps only its last error; each earlier attempt's error lives in the events
(``retrying`` and ``failed`` carry the handler's message). The log is ordered by id, not
indexed by job, so the search first finds where the job's life began by bisecting the
log on time (about 17 one-event reads for 100,000 events), then reads forward until the
job finished, looking at :data:`SCAN_BUDGET` events at most. Events older than the log
keeps, or past the budget, are reported missing instead of guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from relayarr.jobqueue import Event, Job
from relayarr.web.feed import EventFeed

SCAN_BUDGET = 20_000
SLACK_SECONDS = 5.0  # processes' clocks and the relay's batching blur the order a little
READ = 1000


@dataclass(frozen=True, slots=True)
class Trail:
    """The job's events, oldest first; ``complete`` is False when some may be missing."""

    events: list[Event]
    complete: bool


async def _first_at_or_after(feed: EventFeed, lo: int, hi: int, moment: float) -> int:
    """The smallest id in ``[lo, hi]`` whose event happened at or after ``moment``
    (``hi + 1`` when none did), assuming time grows with id (close enough: see SLACK)."""
    hi += 1
    while lo < hi:
        mid = (lo + hi) // 2
        found = await feed.read(mid - 1, 1)
        if not found or found[0].id >= hi:
            hi = mid
        elif found[0].at.timestamp() < moment:
            lo = found[0].id + 1
        else:
            hi = mid
    return lo


async def job_trail(feed: EventFeed, job: Job, *, budget: int = SCAN_BUDGET) -> Trail:
    """Every event of ``job`` the log still holds, within ``budget`` events read."""
    oldest = await feed.read(0, 1)
    if not oldest:
        return Trail([], complete=False)
    begin = job.created_at.timestamp() - SLACK_SECONDS
    end = None if job.finished_at is None else job.finished_at.timestamp() + SLACK_SECONDS
    # Ids start at 1 and only grow: an oldest id of 1 means nothing was ever trimmed.
    complete = oldest[0].id == 1 or oldest[0].at.timestamp() <= begin
    start = await _first_at_or_after(feed, oldest[0].id, feed.last_id, begin)
    events: list[Event] = []
    after = start - 1
    scanned = 0
    while True:
        batch = await feed.read(after, READ)
        if not batch:
            return Trail(events, complete)
        for event in batch:
            if end is not None and event.at.timestamp() > end:
                return Trail(events, complete)
            if event.job_id == job.id:
                events.append(event)
        scanned += len(batch)
        after = batch[-1].id
        if scanned >= budget:
            return Trail(events, complete=False)


__all__ = ["SCAN_BUDGET", "Trail", "job_trail"]
