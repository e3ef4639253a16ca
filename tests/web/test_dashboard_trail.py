"""A job's events found in a real SQLite event log: bisected by time, read until the job
finished, and honest about what the log no longer holds or the budget did not reach."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relayarr.jobqueue import Event, EventKind, Job, JobId, JobQueue, JobStatus, open_storage
from relayarr.jobqueue.storage import EventLog
from relayarr.web.dashboard.trail import job_trail
from relayarr.web.feed import EventFeed

T0 = 1_700_000_000.0


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def event(job_id: int, kind: EventKind, seconds: float, **data: str | int) -> Event:
    return Event(0, kind, at(seconds), JobId(job_id), "scan", data)


def job(job_id: int, created: float, finished: float | None) -> Job:
    return Job(
        id=JobId(job_id),
        type="scan",
        payload={},
        priority=5,
        status=JobStatus.FAILED if finished is not None else JobStatus.PENDING,
        attempts=2,
        max_attempts=2,
        run_at=at(created),
        created_at=at(created),
        finished_at=None if finished is None else at(finished),
    )


@pytest.fixture
async def log_and_feed(tmp_path: Path) -> AsyncIterator[tuple[EventLog, EventFeed]]:
    storage = await open_storage(f"sqlite:///{tmp_path}/queue.db?event_retention=100000")
    assert isinstance(storage, EventLog)
    feed = EventFeed(JobQueue(storage, share_events=True))
    yield storage, feed
    await feed.stop()
    await storage.aclose()


async def fill(log: EventLog, seconds: range, job_of: int = 1) -> None:
    """One unrelated event per second (another job's), in id order."""
    await log.append_events([event(job_of, EventKind.PROGRESS, s) for s in seconds])


async def test_the_jobs_attempts_are_found_among_many_others(
    log_and_feed: tuple[EventLog, EventFeed],
) -> None:
    log, feed = log_and_feed
    await fill(log, range(5000))
    await log.append_events(
        [
            event(7, EventKind.ADDED, 5000),
            event(7, EventKind.STARTED, 5001, attempt=1),
            event(7, EventKind.RETRYING, 5002, attempt=1, error="RuntimeError: first"),
        ]
    )
    await fill(log, range(5003, 5100))
    await log.append_events([event(7, EventKind.FAILED, 5100, attempt=2, error="Boom: second")])
    await fill(log, range(5101, 9000))
    await feed.start()
    trail = await job_trail(feed, job(7, created=5000, finished=5100))
    assert [e.kind for e in trail.events] == [
        EventKind.ADDED,
        EventKind.STARTED,
        EventKind.RETRYING,
        EventKind.FAILED,
    ]
    assert [e.data.get("error") for e in trail.events][2:] == [
        "RuntimeError: first",
        "Boom: second",
    ]
    assert trail.complete


async def test_a_job_older_than_the_log_is_marked_incomplete(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/small.db?event_retention=100")
    assert isinstance(storage, EventLog)
    feed = EventFeed(JobQueue(storage, share_events=True))
    try:
        await storage.append_events([event(3, EventKind.FAILED, 0, error="trimmed away")])
        await fill(storage, range(1, 1200))  # SQLite trims every 1,000 appended events
        await storage.append_events([event(3, EventKind.FAILED, 1200, error="still here")])
        await feed.start()
        trail = await job_trail(feed, job(3, created=0, finished=1200))
        assert [e.data.get("error") for e in trail.events] == ["still here"]
        assert not trail.complete
        # A job whose life the log still covers is complete.
        await storage.append_events([event(4, EventKind.ADDED, 1300)])
        assert (await job_trail(feed, job(4, created=1300, finished=None))).complete
    finally:
        await feed.stop()
        await storage.aclose()


async def test_a_scan_past_its_budget_says_so(log_and_feed: tuple[EventLog, EventFeed]) -> None:
    log, feed = log_and_feed
    await log.append_events([event(5, EventKind.ADDED, 0)])
    await fill(log, range(1, 3000))
    await log.append_events([event(5, EventKind.FAILED, 3000, error="too far")])
    await feed.start()
    trail = await job_trail(feed, job(5, created=0, finished=None), budget=1000)
    assert [e.kind for e in trail.events] == [EventKind.ADDED]
    assert not trail.complete
    whole = await job_trail(feed, job(5, created=0, finished=None))
    assert [e.kind for e in whole.events] == [EventKind.ADDED, EventKind.FAILED]
    assert whole.complete


async def test_an_empty_log_has_no_trail(log_and_feed: tuple[EventLog, EventFeed]) -> None:
    _, feed = log_and_feed
    await feed.start()
    trail = await job_trail(feed, job(1, created=0, finished=1))
    assert trail.events == []
    assert not trail.complete
