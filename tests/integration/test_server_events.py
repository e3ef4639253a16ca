"""Events crossing processes through each server engine's shared log (PostgreSQL: a table
with notifications; Redis: a stream), on a real server.

Two storages opened on one queue behave as two processes would: separate connection pools,
separate listening connections or wake-up subscriptions, no shared memory. These scenarios
are the same for every engine; the tests that only make sense for one engine (how ids
follow commits, trimming the log) stay in test_postgres_events.py and test_redis_events.py.
Deadlines only stop a broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from relayarr.jobqueue import Event, EventKind, Job, JobQueue, open_storage
from relayarr.jobqueue.storage import EventLog, StorageEngine
from servers import postgres_server, redis_server

HANG_GUARD = 60.0  # seconds; only against hanging


@dataclass(frozen=True)
class Engine:
    """What differs between the engines."""

    fresh_database: Callable[[], AbstractAsyncContextManager[str]]


ENGINES = {
    "postgresql": Engine(fresh_database=lambda: postgres_server().fresh_database()),
    "redis": Engine(fresh_database=lambda: redis_server().fresh_database()),
}


@pytest.fixture(params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> Engine:
    name: str = request.param
    return ENGINES[name]


@pytest.fixture
async def two_storages(engine: Engine) -> AsyncIterator[tuple[StorageEngine, StorageEngine]]:
    async with engine.fresh_database() as url:
        first = await open_storage(url)
        second = await open_storage(url)
        try:
            yield first, second
        finally:
            await first.aclose()
            await second.aclose()


def event_log(storage: StorageEngine) -> EventLog:
    assert storage.capabilities.cross_process_events
    assert isinstance(storage, EventLog)
    return storage


def progress(step: int) -> Event:
    return Event(
        id=0,
        kind=EventKind.PROGRESS,
        at=datetime.now(UTC),
        job_id=None,
        job_type=None,
        data={"step": step},
    )


async def collect(queue: JobQueue, after: int, until: int) -> list[Event]:
    """Follow the shared log until ``until`` events arrived."""
    seen: list[Event] = []
    async for event in queue.follow_events(after):
        seen.append(event)
        if len(seen) == until:
            break
    return seen


async def test_a_web_node_sees_the_jobs_a_worker_elsewhere_runs(
    two_storages: tuple[StorageEngine, StorageEngine],
) -> None:
    worker_storage, web_storage = two_storages
    worker = JobQueue(worker_storage, share_events=True)
    web = JobQueue(web_storage, share_events=True)
    web.declare("scan")

    @worker.handler("scan")
    async def scan(job: Job) -> dict[str, str]:
        return {"scanned": str(job.payload["path"])}

    start = await web.last_event_id()
    following = asyncio.create_task(collect(web, start, until=3))
    job = await web.add_job("scan", {"path": "/m"})
    await web.flush_events()
    await worker.start(concurrency=2)
    try:
        events = await asyncio.wait_for(following, HANG_GUARD)
    finally:
        await worker.stop()
    assert [(e.kind, e.job_id) for e in events] == [
        (EventKind.ADDED, job.id),
        (EventKind.STARTED, job.id),
        (EventKind.COMPLETED, job.id),
    ]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert all(e.job_type == "scan" for e in events)
    assert events[-1].data.get("attempt") == 1


async def test_a_reader_resumes_after_the_last_id_it_saw(
    two_storages: tuple[StorageEngine, StorageEngine],
) -> None:
    producer_storage, reader_storage = two_storages
    producer = JobQueue(producer_storage, share_events=True)
    producer.declare("t")
    reader = JobQueue(reader_storage, share_events=True)
    jobs = [await producer.add_job("t", {"n": n}) for n in range(5)]
    await producer.flush_events()
    first = await collect(reader, 0, until=2)
    rest = await collect(reader, first[-1].id, until=3)
    assert [e.job_id for e in first + rest] == [job.id for job in jobs]


async def test_a_follower_waiting_for_change_wakes_when_events_are_appended(
    engine: Engine, two_storages: tuple[StorageEngine, StorageEngine]
) -> None:
    appender, follower = two_storages
    watch = follower.watch_changes()
    # The first wait sets up the wake-up (LISTEN, a subscription) and returns once it stands
    # (anything may have happened before); the second can then only end by a notification.
    await asyncio.wait_for(watch.wait(HANG_GUARD), HANG_GUARD * 2)
    waiting = asyncio.create_task(watch.wait(3600))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await event_log(appender).append_events([progress(1)])
    await asyncio.wait_for(waiting, HANG_GUARD)
    assert [e.data["step"] for e in await event_log(follower).read_events(0, 10)] == [1]
