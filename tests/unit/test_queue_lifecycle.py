"""Start, stop, heartbeats, cancellation and recovery of stalled or orphaned jobs."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Sequence

import pytest
from fakes import MemoryStorage, next_event, wait_until

from relayarr.jobqueue import (
    EventKind,
    FakeClock,
    Job,
    JobQueue,
    JobSpec,
    JobStatus,
    SystemClock,
)
from relayarr.jobqueue.models import NewJob
from relayarr.jobqueue.owner import make_owner
from relayarr.jobqueue.runner import Interruption


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def storage(clock: FakeClock) -> MemoryStorage:
    return MemoryStorage(clock)


@pytest.fixture
async def queue(storage: MemoryStorage) -> AsyncIterator[JobQueue]:
    queue = JobQueue(storage, poll_interval=60.0)
    yield queue
    await queue.stop(timeout=1.0)


async def test_stop_is_safe_when_never_started_and_idempotent(queue: JobQueue) -> None:
    await queue.stop()
    await queue.start()
    assert queue.running
    await asyncio.gather(queue.stop(), queue.stop())
    await queue.stop()
    assert not queue.running


async def test_start_twice_is_an_error_but_restart_after_stop_works(queue: JobQueue) -> None:
    ran = asyncio.Event()

    @queue.handler("work")
    async def work(job: Job) -> None:
        ran.set()

    await queue.start()
    with pytest.raises(RuntimeError, match="already running"):
        await queue.start()
    await queue.stop()
    await queue.start()
    await queue.add_job("work")
    await asyncio.wait_for(ran.wait(), timeout=5.0)


async def test_start_refuses_a_bad_concurrency(queue: JobQueue) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await queue.start(concurrency=0)
    assert not queue.running


async def test_stop_lets_running_jobs_finish(queue: JobQueue) -> None:
    entered = asyncio.Event()
    leave = asyncio.Event()

    @queue.handler("work")
    async def work(job: Job) -> str:
        entered.set()
        await leave.wait()
        return "finished"

    await queue.start()
    job = await queue.add_job("work")
    await entered.wait()
    stopping = asyncio.create_task(queue.stop(timeout=30))
    await asyncio.sleep(0)
    assert not stopping.done()
    leave.set()
    await stopping
    done = await queue.get_job(job.id)
    assert (done.status, done.result) == (JobStatus.COMPLETED, "finished")


async def test_stop_releases_jobs_that_outlive_the_drain(
    queue: JobQueue, storage: MemoryStorage
) -> None:
    cancelled = asyncio.Event()

    @queue.handler("forever")
    async def forever(job: Job) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    events = queue.events.subscribe()
    await queue.start(concurrency=2)
    jobs = await queue.add_jobs([JobSpec("forever"), JobSpec("forever")])
    for job in jobs:
        await next_event(events, EventKind.STARTED, job.id)
    await queue.stop(timeout=0.01)

    assert cancelled.is_set()
    for job in jobs:
        back = await queue.get_job(job.id)
        # Released, not lost: pending again, and the interrupted attempt is not counted.
        assert back.status is JobStatus.PENDING
        assert back.attempts == 0
        assert back.lease_owner is None
    assert storage.calls["release"] == 2
    assert storage.calls["fail"] == 0


async def test_stop_right_after_claim_releases_unstarted_jobs(
    queue: JobQueue, storage: MemoryStorage
) -> None:
    @queue.handler("work")
    async def work(job: Job) -> None:
        await asyncio.Event().wait()

    await queue.add_jobs([JobSpec("work") for _ in range(3)])
    await queue.start(concurrency=3)
    await asyncio.sleep(0)  # one step: the dispatcher claims; the handlers may not have begun
    assert all(job.status is JobStatus.PROCESSING for job in storage.active.values())
    await queue.stop(timeout=0)
    assert all(job.status is JobStatus.PENDING for job in storage.active.values())
    assert all(job.attempts == 0 for job in storage.active.values())


async def test_heartbeats_keep_a_long_job_past_its_lease() -> None:
    storage = MemoryStorage(SystemClock())
    queue = JobQueue(storage, lease_seconds=0.3, poll_interval=60.0)
    leave = asyncio.Event()

    @queue.handler("long")
    async def long(job: Job) -> None:
        await leave.wait()

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("long")
    await next_event(events, EventKind.STARTED, job.id)
    # Beats come every lease/3, so four of them span more than one whole lease.
    await wait_until(lambda: storage.calls["heartbeat"] >= 4, "four heartbeats")
    assert await storage.reclaim([], max_rescues=3) == []  # nothing looks stalled
    leave.set()
    await next_event(events, EventKind.COMPLETED, job.id)
    done = await queue.get_job(job.id)
    assert (done.status, done.rescues, done.attempts) == (JobStatus.COMPLETED, 0, 1)
    await queue.stop()


async def test_a_failed_heartbeat_is_retried() -> None:
    storage = MemoryStorage(SystemClock())
    storage.fail_heartbeats = 2
    queue = JobQueue(storage, lease_seconds=0.3, poll_interval=60.0)
    leave = asyncio.Event()

    @queue.handler("long")
    async def long(job: Job) -> None:
        await leave.wait()

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("long")
    await wait_until(lambda: storage.calls["heartbeat"] >= 4, "beats after two failures")
    leave.set()
    await next_event(events, EventKind.COMPLETED, job.id)
    await queue.stop()


async def test_lease_lost_stops_the_handler_and_writes_nothing() -> None:
    storage = MemoryStorage(SystemClock())
    queue = JobQueue(storage, lease_seconds=0.3, poll_interval=60.0)
    entered = asyncio.Event()
    stopped = asyncio.Event()

    @queue.handler("long")
    async def long(job: Job) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.set()
            raise

    await queue.start()
    job = await queue.add_job("long")
    await entered.wait()
    # Another process cancels the job: only the next heartbeat can tell this worker.
    await storage.cancel(job.id)
    await asyncio.wait_for(stopped.wait(), timeout=5.0)
    await wait_until(lambda: not queue.running or storage.calls["heartbeat"] >= 1, "a beat")
    await queue.stop()
    assert storage.calls["complete"] == storage.calls["fail"] == storage.calls["release"] == 0
    assert (await queue.get_job(job.id)).status is JobStatus.CANCELLED


async def test_cancel_job_stops_a_local_handler_at_once(queue: JobQueue) -> None:
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
    await queue.cancel_job(job.id)
    await asyncio.wait_for(stopped.wait(), timeout=5.0)
    cancelled = await next_event(events, EventKind.CANCELLED, job.id)
    assert cancelled.job_type == "long"
    assert (await queue.get_job(job.id)).status is JobStatus.CANCELLED


async def _claim_as(storage: MemoryStorage, owner: str, lease_seconds: float) -> Job:
    new = NewJob.create("work", {}, now=storage.clock.now())
    (added,) = await storage.add([new])
    (claimed,) = await storage.claim(owner, ["work"], 1, lease_seconds)
    assert claimed.id == added.job.id
    return claimed


async def _dead_pid() -> int:
    process = await asyncio.create_subprocess_exec("true")
    await process.wait()
    return process.pid


async def test_start_reclaims_dead_local_owners_at_once(
    queue: JobQueue, storage: MemoryStorage
) -> None:
    dead_owner = f"{socket.gethostname()}:{await _dead_pid()}:1:dead"
    orphan = await _claim_as(storage, dead_owner, lease_seconds=3600)
    live = await _claim_as(storage, make_owner(), lease_seconds=3600)  # this process: alive
    remote = await _claim_as(storage, "elsewhere:1:1:x", lease_seconds=3600)
    ran: list[int] = []

    @queue.handler("work")
    async def work(job: Job) -> None:
        ran.append(job.id)

    events = queue.events.subscribe()
    await queue.start()
    recovered = await next_event(events, EventKind.RECOVERED, orphan.id)
    assert recovered.data["rescues"] == 1
    await next_event(events, EventKind.COMPLETED, orphan.id)
    assert ran == [orphan.id]
    # Neither a live local worker's job nor another host's unexpired job is touched.
    assert storage.active[live.id].status is JobStatus.PROCESSING
    assert storage.active[remote.id].status is JobStatus.PROCESSING


async def test_sweeper_recovers_expired_leases_and_fails_poison_jobs(
    storage: MemoryStorage, clock: FakeClock
) -> None:
    queue = JobQueue(storage, lease_seconds=0.05, max_rescues=1, poll_interval=60.0)
    queue.declare("work")  # no handler here: recovered jobs just wait
    first = await _claim_as(storage, "elsewhere:1:1:x", lease_seconds=10)
    events = queue.events.subscribe()
    await queue.start()
    clock.advance(11)  # the remote worker stopped beating
    recovered = await next_event(events, EventKind.RECOVERED, first.id)
    assert recovered.data["rescues"] == 1

    (again,) = await storage.claim("elsewhere:1:1:x", ["work"], 1, 10)
    clock.advance(11)
    failed = await next_event(events, EventKind.FAILED, again.id)
    assert failed.data["poison"] is True
    assert (await queue.get_job(first.id)).status is JobStatus.FAILED
    await queue.stop()


async def test_handler_lease_seconds_is_applied_by_an_immediate_heartbeat(
    storage: MemoryStorage, clock: FakeClock
) -> None:
    queue = JobQueue(storage, lease_seconds=30, poll_interval=60.0)
    leave = asyncio.Event()

    @queue.handler("long", lease_seconds=600)
    async def long(job: Job) -> None:
        await leave.wait()

    await queue.start()
    job = await queue.add_job("long")
    await wait_until(lambda: storage.calls["heartbeat"] >= 1, "the first heartbeat")
    expires = storage.active[job.id].lease_expires_at
    assert expires is not None
    assert expires.timestamp() == clock.now() + 600
    leave.set()
    await queue.stop()


def test_owner_is_unique_per_queue(storage: MemoryStorage) -> None:
    first, second = JobQueue(storage), JobQueue(storage)
    assert first.owner != second.owner
    assert first.owner.split(":")[1] == str(os.getpid())


async def test_a_job_cancelled_before_its_first_step_frees_its_slot(
    storage: MemoryStorage,
) -> None:
    # White-box: a task cancelled before it ever ran never executes its body, so the
    # worker must notice from outside (a done-callback) and release the job itself.
    queue = JobQueue(storage)

    @queue.handler("work")
    async def work(job: Job) -> None:
        raise AssertionError("must not run")

    await queue.add_job("work")
    worker = queue._make_worker(concurrency=1)
    (job,) = await storage.claim(queue.owner, ["work"], 1, 30)
    worker._launch(job, probe=False)
    run = worker._running[job.id]
    assert run.task is not None
    run.interruption = Interruption.STOPPING
    run.task.cancel()
    await asyncio.gather(run.task, return_exceptions=True)
    await asyncio.sleep(0)  # done-callbacks run on the next loop step
    assert worker._running == {}
    assert worker._unstarted == [job]


class _StopDuringClaim(MemoryStorage):
    """Storage whose claim lets the caller begin stopping while the claim is in flight."""

    queue: JobQueue | None = None

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        jobs = await super().claim(owner, types, limit, lease_seconds)
        if jobs and self.queue is not None:
            self.stopping = asyncio.ensure_future(self.queue.stop(timeout=30))
            await wait_until(lambda: self.queue is not None and self.queue.stopping, "stop")
        return jobs


async def test_jobs_claimed_while_stopping_are_released_unrun(clock: FakeClock) -> None:
    storage = _StopDuringClaim(clock)
    queue = JobQueue(storage, poll_interval=60.0)
    storage.queue = queue

    @queue.handler("work")
    async def work(job: Job) -> None:
        raise AssertionError("must not run")

    job = await queue.add_job("work")
    await queue.start()
    await wait_until(lambda: hasattr(storage, "stopping"), "a claim")
    await storage.stopping
    back = await queue.get_job(job.id)
    assert (back.status, back.attempts) == (JobStatus.PENDING, 0)


async def test_a_failed_claim_is_logged_and_tried_again(
    queue: JobQueue, storage: MemoryStorage, caplog: pytest.LogCaptureFixture
) -> None:
    ran = asyncio.Event()

    @queue.handler("work")
    async def work(job: Job) -> None:
        ran.set()

    storage.fail_claims = 1
    await queue.add_job("work")
    await queue.start()
    await wait_until(lambda: storage.calls["claim"] >= 1, "the failing claim")
    queue.wake()  # cut the pause after an error short; the next claim succeeds
    await asyncio.wait_for(ran.wait(), timeout=5.0)
    assert "dispatcher error; retrying" in caplog.text


async def test_an_unrecordable_outcome_leaves_the_job_to_its_lease(
    queue: JobQueue, storage: MemoryStorage, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[int] = []

    @queue.handler("work")
    async def work(job: Job) -> None:
        done.append(job.id)

    storage.fail_completes = 1
    events = queue.events.subscribe(kinds={EventKind.COMPLETED})
    await queue.start()
    first = await queue.add_job("work")
    second = await queue.add_job("work")
    await next_event(events, EventKind.COMPLETED, second.id)
    # The first job's completion failed: it stays leased (the sweep brings it back once the
    # lease expires), and its slot was freed for the second job.
    assert done == [first.id, second.id]
    assert storage.active[first.id].status is JobStatus.PROCESSING
    assert "job outcome could not be recorded" in caplog.text
