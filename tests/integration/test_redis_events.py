"""Events crossing processes through the Redis engine's shared log (a stream), on a real server.

Two storages opened on one server and prefix behave as two processes would: separate
connection pools, separate wake-up subscriptions, no shared memory. Deadlines only stop a
broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from relayarr.jobqueue import Event, EventKind, InvalidURL, Job, JobQueue, open_storage
from relayarr.jobqueue.storage import EventLog, Storage
from servers import redis_server

HANG_GUARD = 60.0  # seconds; only against hanging


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with redis_server().fresh_database() as fresh:
        yield fresh


@pytest.fixture
async def two_storages(url: str) -> AsyncIterator[tuple[Storage, Storage]]:
    first = await open_storage(url)
    second = await open_storage(url)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


def event_log(storage: Storage) -> EventLog:
    assert storage.capabilities.cross_process_events
    assert isinstance(storage, EventLog)
    return storage


def progress(step: int, source: int = 0) -> Event:
    return Event(
        id=0,
        kind=EventKind.PROGRESS,
        at=datetime.now(UTC),
        job_id=None,
        job_type=None,
        data={"step": step, "source": source},
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
    two_storages: tuple[Storage, Storage],
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
    two_storages: tuple[Storage, Storage],
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
    two_storages: tuple[Storage, Storage],
) -> None:
    appender, follower = two_storages
    # The first wait returns once the subscription stands (anything may have happened
    # before it) and arms the wake-up; the second can then only end by a publish.
    await asyncio.wait_for(follower.wait_for_change(HANG_GUARD), HANG_GUARD * 2)
    waiting = asyncio.create_task(follower.wait_for_change(3600))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await event_log(appender).append_events([progress(1)])
    await asyncio.wait_for(waiting, HANG_GUARD)
    assert [e.data["step"] for e in await event_log(follower).read_events(0, 10)] == [1]


async def test_concurrent_appenders_never_let_a_follower_skip_an_event(url: str) -> None:
    """Each batch is one script, so ids follow the order batches are applied: a follower
    reading as fast as it can while four handles append sees every event exactly once."""
    appenders = [await open_storage(url) for _ in range(4)]
    reader_storage = await open_storage(url)
    reader = event_log(reader_storage)
    rounds = 150
    try:

        async def append(source: int, storage: Storage) -> None:
            log = event_log(storage)
            for step in range(rounds):
                await log.append_events([progress(step, source), progress(step, source)])

        writing = asyncio.gather(*(append(n, s) for n, s in enumerate(appenders)))
        seen: list[Event] = []
        last = 0
        async with asyncio.timeout(HANG_GUARD):
            while True:
                finished = writing.done()  # looked at before the read: that one is final
                batch = await reader.read_events(last, 1000)
                if batch:
                    last = batch[-1].id
                    seen += batch
                elif finished:
                    break
                else:
                    await asyncio.sleep(0)
            await writing
        assert len(seen) == 2 * rounds * len(appenders), "the follower skipped events"
        assert [e.id for e in seen] == list(range(1, len(seen) + 1))
        for source in range(len(appenders)):
            steps = [e.data["step"] for e in seen if e.data["source"] == source]
            assert steps == [step for step in range(rounds) for _ in range(2)], "out of order"
    finally:
        for storage in appenders:
            await storage.aclose()
        await reader_storage.aclose()


async def test_the_log_keeps_about_the_newest_events_and_ids_never_go_back(url: str) -> None:
    storage = await open_storage(f"{url}&event_retention=10")
    try:
        log = event_log(storage)
        for n in range(12):
            await log.append_events([progress(100 * n + k) for k in range(100)])
        remaining = await log.read_events(0, 10_000)
        # MAXLEN ~ trims whole stream nodes (100 entries each by default): about 10 stay.
        assert 10 <= len(remaining) < 1200
        assert remaining[-1].id == await log.last_event_id() == 1200
        assert [e.data["step"] for e in remaining][-10:] == list(range(1190, 1200))
        assert remaining[0].id > 1, "nothing was trimmed"
        await log.append_events([progress(-1)])
        assert [e.id for e in await log.read_events(1200, 10)] == [1201]
    finally:
        await storage.aclose()


async def test_a_bad_event_retention_is_refused(url: str) -> None:
    with pytest.raises(InvalidURL, match="event_retention"):
        await open_storage(f"{url}&event_retention=0")
