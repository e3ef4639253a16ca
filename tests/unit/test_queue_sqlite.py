"""The queue on the real SQLite engine (a file under tmp_path): the same promises, for real.

Two storages opened on one file stand in for two worker processes: each has its own
connections, so what one does reaches the other only through the database.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from fakes import next_event

from relayarr.jobqueue import (
    BreakerPhase,
    BreakerPolicy,
    Complete,
    EventKind,
    FakeClock,
    Job,
    JobId,
    JobQuery,
    JobQueue,
    JobSpec,
    JobStatus,
    PermanentFailure,
    Retry,
    StorageEngine,
    open_storage,
)
from relayarr.jobqueue.models import NewJob


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/queue.db"


@pytest.fixture
async def storage(url: str) -> AsyncIterator[StorageEngine]:
    storage = await open_storage(url)
    yield storage
    await storage.aclose()


@pytest.fixture
async def queue(storage: StorageEngine) -> AsyncIterator[JobQueue]:
    queue = JobQueue(storage, poll_interval=60.0, backoff_base=0.0)
    yield queue
    await queue.stop(timeout=1.0)


async def test_a_job_runs_to_completion_with_its_result(queue: JobQueue) -> None:
    @queue.handler("scan-movie", max_attempts=5)
    async def scan(job: Job) -> object:
        return {"path": job.payload["path"]}

    events = queue.events.subscribe()
    await queue.start(concurrency=4)
    job = await queue.add_job("scan-movie", {"path": "/m"}, priority=2, unique_key="/m")
    assert job.max_attempts == 5
    await next_event(events, EventKind.COMPLETED, job.id)
    done = await queue.get_job(job.id)
    assert (done.status, done.result, done.attempts) == (JobStatus.COMPLETED, {"path": "/m"}, 1)
    stats = await queue.stats()
    assert stats.count(JobStatus.COMPLETED) == 1


async def test_unique_key_returns_the_active_job(queue: JobQueue) -> None:
    queue.declare("scan-movie")
    events = queue.events.subscribe()
    first = await queue.add_job("scan-movie", {"path": "/m"}, unique_key="/m")
    second = await queue.add_job("scan-movie", {"path": "/m"}, unique_key="/m")
    assert second.id == first.id
    added = [e for e in iter(events.get_nowait, None) if e.kind is EventKind.ADDED]
    assert len(added) == 1


async def test_idle_worker_is_woken_by_an_add(queue: JobQueue) -> None:
    started = asyncio.Event()

    @queue.handler("ping")
    async def ping(job: Job) -> None:
        started.set()

    await queue.start()
    await asyncio.sleep(0.01)  # idle now, and the poll interval is a minute
    await queue.add_job("ping")
    await asyncio.wait_for(started.wait(), timeout=5.0)


async def test_retries_then_success_and_permanent_failure(queue: JobQueue) -> None:
    calls: dict[int, int] = {}

    @queue.handler("flaky", max_attempts=5)
    async def flaky(job: Job) -> None:
        calls[job.id] = calls.get(job.id, 0) + 1
        if job.payload.get("permanent"):
            raise PermanentFailure("no such movie")
        if job.attempts == 1:
            raise Retry(delay=0, reason="try again")
        if job.attempts == 2:
            raise RuntimeError("transient")

    completions = queue.events.subscribe(kinds={EventKind.COMPLETED})
    failures = queue.events.subscribe(kinds={EventKind.FAILED})
    await queue.start()
    retried = await queue.add_job("flaky")
    doomed = await queue.add_job("flaky", {"permanent": True})
    await next_event(completions, EventKind.COMPLETED, retried.id)
    done = await queue.get_job(retried.id)
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 3)
    assert done.last_error == "RuntimeError: transient"
    await next_event(failures, EventKind.FAILED, doomed.id)
    failed = await queue.get_job(doomed.id)
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 1)
    assert failed.last_error == "PermanentFailure: no such movie"
    assert calls == {retried.id: 3, doomed.id: 1}


async def test_an_error_text_that_is_not_utf8_is_stored_escaped(queue: JobQueue) -> None:
    """A file name read from disk with surrogateescape can reach an error message; the job
    must still fail for the record, with the undecodable byte written out, not stay stuck
    until its lease runs out."""
    name = b"/media/Am\xe9lie.mkv".decode("utf-8", "surrogateescape")

    @queue.handler("scan", max_attempts=1)
    async def scan(job: Job) -> None:
        raise FileNotFoundError(f"no such file: {name}")

    failures = queue.events.subscribe(kinds={EventKind.FAILED})
    await queue.start()
    job = await queue.add_job("scan")
    await next_event(failures, EventKind.FAILED, job.id)
    failed = await queue.get_job(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.last_error == "FileNotFoundError: no such file: /media/Am\\udce9lie.mkv"


async def test_follow_ups_commit_with_the_completion(queue: JobQueue) -> None:
    @queue.handler("webhook")
    async def webhook(job: Job) -> Complete:
        return Complete(
            result={"routed": True},
            follow_ups=[JobSpec("scan-movie", {"path": "/m"}, unique_key="/m", delay=3600)],
        )

    queue.declare("scan-movie")
    events = queue.events.subscribe(kinds={EventKind.COMPLETED, EventKind.ADDED})
    await queue.start()
    parent = await queue.add_job("webhook", priority=1)
    await next_event(events, EventKind.COMPLETED, parent.id)
    page = await queue.list_jobs(JobQuery(parent_id=parent.id))
    (child,) = page.jobs
    assert (child.type, child.status, child.unique_key) == ("scan-movie", JobStatus.PENDING, "/m")
    added = await next_event(events, EventKind.ADDED, child.id)
    assert added.job_type == "scan-movie"


async def test_add_jobs_batch(queue: JobQueue) -> None:
    queue.declare("bulk")
    jobs = await queue.add_jobs(JobSpec("bulk", {"n": n}) for n in range(1000))
    assert len({job.id for job in jobs}) == 1000
    assert (await queue.stats()).count(JobStatus.PENDING) == 1000


async def test_stop_releases_running_jobs_unrun(queue: JobQueue) -> None:
    @queue.handler("forever")
    async def forever(job: Job) -> None:
        await asyncio.Event().wait()

    events = queue.events.subscribe()
    await queue.start(concurrency=2)
    jobs = await queue.add_jobs([JobSpec("forever"), JobSpec("forever")])
    for job in jobs:
        await next_event(events, EventKind.STARTED, job.id)
    await queue.stop(timeout=0.01)
    for job in jobs:
        back = await queue.get_job(job.id)
        assert (back.status, back.attempts, back.lease_owner) == (JobStatus.PENDING, 0, None)


async def test_heartbeats_keep_a_job_from_a_sweeping_neighbour(
    url: str, storage: StorageEngine
) -> None:
    neighbour_storage = await open_storage(url)
    mine = JobQueue(storage, lease_seconds=0.3, poll_interval=60.0)
    neighbour = JobQueue(neighbour_storage, lease_seconds=0.3, poll_interval=0.05)
    runs: list[int] = []
    leave = asyncio.Event()

    @mine.handler("long")
    async def long(job: Job) -> None:
        runs.append(job.id)
        await leave.wait()

    @neighbour.handler("long")
    async def also_long(job: Job) -> None:
        runs.append(job.id)

    events = mine.events.subscribe()
    await mine.start()
    job = await mine.add_job("long")
    await next_event(events, EventKind.STARTED, job.id)
    recovered = neighbour.events.subscribe(kinds={EventKind.RECOVERED})
    await neighbour.start()
    # Four lease extensions (one every 0.1 s) outlast the 0.3 s lease; the neighbour sweeps
    # every 0.15 s all along and must find nothing to take.
    await _count_heartbeats(storage, job.id, 4)
    leave.set()
    await next_event(events, EventKind.COMPLETED, job.id)
    assert runs == [job.id]
    assert recovered.get_nowait() is None
    assert (await storage.get(job.id)).rescues == 0
    await neighbour.stop()
    await mine.stop()
    await neighbour_storage.aclose()


async def _count_heartbeats(storage: StorageEngine, job_id: int, count: int) -> None:
    """Wait until the job's lease expiry has moved ``count`` times (safety limit 5 s)."""
    expiries: set[datetime] = set()
    async with asyncio.timeout(5):
        while len(expiries) <= count:
            job = await storage.get(JobId(job_id))
            assert job.status is JobStatus.PROCESSING
            if job.lease_expires_at is not None:
                expiries.add(job.lease_expires_at)
            await asyncio.sleep(0.01)


async def test_cancel_from_another_process_stops_the_handler(
    url: str, storage: StorageEngine
) -> None:
    other = await open_storage(url)
    queue = JobQueue(storage, lease_seconds=0.3, poll_interval=60.0)
    stopped = asyncio.Event()

    @queue.handler("long")
    async def long(job: Job) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.set()
            raise

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("long")
    await next_event(events, EventKind.STARTED, job.id)
    await other.cancel(job.id)
    await asyncio.wait_for(stopped.wait(), timeout=5.0)
    await queue.stop()
    done = await storage.get(job.id)
    assert (done.status, done.last_error) == (JobStatus.CANCELLED, None)
    await other.aclose()


async def test_dead_local_owner_is_reclaimed_at_start(
    queue: JobQueue, storage: StorageEngine
) -> None:
    process = await asyncio.create_subprocess_exec("true")
    await process.wait()
    dead = f"{socket.gethostname()}:{process.pid}:1:gone"
    await storage.add([NewJob.create("work", {}, now=storage.clock.now())])
    (orphan,) = await storage.claim(dead, ["work"], 1, 3600)
    ran = asyncio.Event()

    @queue.handler("work")
    async def work(job: Job) -> None:
        ran.set()

    events = queue.events.subscribe()
    await queue.start()
    await next_event(events, EventKind.RECOVERED, orphan.id)
    await asyncio.wait_for(ran.wait(), timeout=5.0)
    await next_event(events, EventKind.COMPLETED, orphan.id)
    assert (await storage.get(orphan.id)).rescues == 1


async def test_breaker_state_is_shared_through_the_database(url: str) -> None:
    clock = FakeClock()
    storage = await open_storage(url, clock=clock)
    other = await open_storage(url, clock=clock)
    queue = JobQueue(
        storage, poll_interval=60.0, backoff_base=0.0, breaker=BreakerPolicy(threshold=2)
    )

    @queue.handler("notify", max_attempts=10)
    async def notify(job: Job) -> None:
        raise ConnectionError("player offline")

    events = queue.events.subscribe(kinds={EventKind.BREAKER})
    await queue.start()
    job = await queue.add_job("notify")
    await next_event(events, EventKind.BREAKER)
    (state,) = await other.breakers()
    assert (state.name, state.phase, state.failures) == ("notify", BreakerPhase.OPEN, 2)
    assert (await other.get(job.id)).attempts == 2
    await queue.stop()
    await storage.aclose()
    await other.aclose()
