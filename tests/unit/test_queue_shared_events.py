"""Events crossing processes through the SQLite engine's shared log.

Two storages opened on one file behave as two processes would: separate connections, no
shared memory. A worker queue runs jobs; a producer-only queue elsewhere follows its events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relayarr.jobqueue import Event, EventKind, Job, JobQueue, JobQueueError, open_storage
from relayarr.jobqueue.storage import StorageEngine


@pytest.fixture
async def two_storages(tmp_path: Path) -> AsyncIterator[tuple[StorageEngine, StorageEngine]]:
    url = f"sqlite:///{tmp_path}/q.db"
    first = await open_storage(url)
    second = await open_storage(url)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


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
        events = await asyncio.wait_for(following, timeout=30)
    finally:
        await worker.stop()
    assert [(e.kind, e.job_id) for e in events] == [
        (EventKind.ADDED, job.id),
        (EventKind.STARTED, job.id),
        (EventKind.COMPLETED, job.id),
    ]
    assert [e.id for e in events] == sorted(e.id for e in events)


async def test_a_reader_resumes_after_the_last_id_it_saw(
    two_storages: tuple[StorageEngine, StorageEngine],
) -> None:
    producer_storage, reader_storage = two_storages
    producer = JobQueue(producer_storage, share_events=True)
    producer.declare("t")
    reader = JobQueue(reader_storage, share_events=True)
    for n in range(5):
        await producer.add_job("t", {"n": n})
    await producer.flush_events()
    first = await collect(reader, 0, until=2)
    rest = await collect(reader, first[-1].id, until=3)
    assert [e.job_id for e in first + rest] == [e.job_id for e in await collect(reader, 0, 5)]
    assert len({e.job_id for e in first + rest}) == 5


async def test_following_needs_sharing_switched_on(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/q.db")
    try:
        queue = JobQueue(storage)
        with pytest.raises(JobQueueError, match="share_events"):
            queue.follow_events()
    finally:
        await storage.aclose()


async def test_the_log_keeps_only_the_newest_events(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/q.db?event_retention=10")
    try:
        queue = JobQueue(storage, share_events=True)
        queue.declare("t")
        for n in range(1100):  # trimming runs every 1,000 appended events
            await queue.add_job("t", {"n": n})
            if n % 100 == 0:
                await queue.flush_events()
        await queue.flush_events()
        assert queue.relay is not None
        remaining = await storage.read_events(0, 10_000)  # type: ignore[attr-defined]
        assert len(remaining) < 1100
        assert remaining[-1].id == await queue.last_event_id()
    finally:
        await storage.aclose()


async def test_one_at_a_time_adds_share_their_event_appends(tmp_path: Path) -> None:
    """A producer adding job after job must not pay an event-log write per job."""
    storage = await open_storage(f"sqlite:///{tmp_path}/q.db")
    appends = 0
    append = storage.append_events  # type: ignore[attr-defined]

    async def counting(events: list[Event]) -> None:
        nonlocal appends
        appends += 1
        await append(events)

    storage.append_events = counting  # type: ignore[attr-defined]
    try:
        producer = JobQueue(storage, share_events=True)
        producer.declare("t")
        start = await producer.last_event_id()
        for n in range(50):
            await producer.add_job("t", {"n": n})
            await asyncio.sleep(0)  # let a relay that appended at once do so
        await producer.flush_events()
        events = await collect(producer, start, until=50)
        assert [e.data.get("priority") for e in events] == [5] * 50
        assert appends < 10
    finally:
        await storage.aclose()
