"""Running jobs: results, follow-ups, retries and backoff, handler signals, timeouts, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fakes import MemoryStorage, next_event, wait_until

from relayarr.jobqueue import (
    Complete,
    EventKind,
    FakeClock,
    Job,
    JobQueue,
    JobSpec,
    JobStatus,
    PermanentFailure,
    Retry,
    Snooze,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def storage(clock: FakeClock) -> MemoryStorage:
    return MemoryStorage(clock)


@pytest.fixture
async def queue(storage: MemoryStorage) -> AsyncIterator[JobQueue]:
    # A long poll interval: every test below must be woken by events, never by polling.
    queue = JobQueue(storage, poll_interval=60.0, backoff_base=10.0, backoff_max=100.0)
    yield queue
    await queue.stop(timeout=1.0)


async def test_handler_result_is_stored(queue: JobQueue, storage: MemoryStorage) -> None:
    @queue.handler("echo")
    async def echo(job: Job) -> object:
        return {"seen": job.payload["value"]}

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("echo", {"value": 42})
    await next_event(events, EventKind.COMPLETED, job.id)

    done = await queue.get_job(job.id)
    assert done.status is JobStatus.COMPLETED
    assert done.result == {"seen": 42}
    assert done.attempts == 1


async def test_none_result_stores_nothing(queue: JobQueue) -> None:
    @queue.handler("noop")
    async def noop(job: Job) -> None:
        return None

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("noop")
    await next_event(events, EventKind.COMPLETED, job.id)
    assert (await queue.get_job(job.id)).result is None


async def test_idle_worker_starts_an_added_job_without_polling(queue: JobQueue) -> None:
    started = asyncio.Event()

    @queue.handler("ping")
    async def ping(job: Job) -> None:
        started.set()

    await queue.start(concurrency=2)
    await asyncio.sleep(0.01)  # let the dispatcher go idle first (it would sleep 60 s)
    await queue.add_job("ping")
    # Far below the 60 s poll interval: only the in-process wake-up can start it.
    await asyncio.wait_for(started.wait(), timeout=5.0)


async def test_event_sequence_for_one_job(queue: JobQueue) -> None:
    @queue.handler("work")
    async def work(job: Job) -> None:
        queue.progress(job, 0.5, "half way")

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("work")
    kinds = []
    async with asyncio.timeout(5):
        async for event in events:
            assert event.job_id == job.id
            kinds.append(event.kind)
            if event.kind is EventKind.COMPLETED:
                break
    assert kinds == [EventKind.ADDED, EventKind.STARTED, EventKind.PROGRESS, EventKind.COMPLETED]


async def test_progress_is_validated(queue: JobQueue) -> None:
    queue.declare("x")
    job = await queue.add_job("x")
    with pytest.raises(ValueError, match="from 0 to 1"):
        queue.progress(job, 1.5)
    with pytest.raises(ValueError, match="from 0 to 1"):
        queue.progress(job, float("nan"))


async def test_failure_retries_with_jittered_backoff(
    queue: JobQueue, storage: MemoryStorage, clock: FakeClock
) -> None:
    @queue.handler("flaky", max_attempts=3)
    async def flaky(job: Job) -> None:
        raise RuntimeError("disk on fire")

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("flaky")

    first = await next_event(events, EventKind.RETRYING, job.id)
    assert first.data["attempt"] == 1
    assert first.data["error"] == "RuntimeError: disk on fire"
    after_one = await queue.get_job(job.id)
    assert after_one.status is JobStatus.PENDING
    assert after_one.last_error == "RuntimeError: disk on fire"
    # Attempt 1 backs off base * 2**0 = 10 s with equal jitter: between 5 and 10 s.
    wait = after_one.run_at.timestamp() - clock.now()
    assert 5.0 <= wait <= 10.0

    clock.advance(wait)
    queue.wake()
    await next_event(events, EventKind.RETRYING, job.id)
    after_two = await queue.get_job(job.id)
    wait = after_two.run_at.timestamp() - clock.now()
    assert 10.0 <= wait <= 20.0  # base * 2**1

    clock.advance(wait)
    queue.wake()
    failed = await next_event(events, EventKind.FAILED, job.id)
    assert failed.data["attempt"] == 3
    final = await queue.get_job(job.id)
    assert final.status is JobStatus.FAILED
    assert final.attempts == 3


async def test_retry_signal_sets_the_delay(
    queue: JobQueue, storage: MemoryStorage, clock: FakeClock
) -> None:
    @queue.handler("busy")
    async def busy(job: Job) -> None:
        raise Retry(delay=42, reason="player is busy")

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("busy")
    await next_event(events, EventKind.RETRYING, job.id)
    again = await queue.get_job(job.id)
    assert again.run_at.timestamp() == pytest.approx(clock.now() + 42)
    assert again.last_error == "Retry: player is busy"


async def test_retry_signal_still_uses_up_attempts(queue: JobQueue) -> None:
    @queue.handler("busy", max_attempts=1)
    async def busy(job: Job) -> None:
        raise Retry(delay=0)

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("busy")
    await next_event(events, EventKind.FAILED, job.id)
    assert (await queue.get_job(job.id)).status is JobStatus.FAILED


async def test_snooze_waits_without_using_up_attempts(
    queue: JobQueue, storage: MemoryStorage, clock: FakeClock
) -> None:
    runs: list[int] = []

    @queue.handler("mounted", max_attempts=1)
    async def mounted(job: Job) -> str:
        runs.append(job.attempts)
        if len(runs) < 3:
            raise Snooze(delay=30, reason="waiting for /srv/media to be mounted")
        return "scanned"

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("mounted")
    snoozed = await next_event(events, EventKind.RETRYING, job.id)
    assert snoozed.data["snoozed"] is True
    waiting = await queue.get_job(job.id)
    assert (waiting.status, waiting.attempts) == (JobStatus.PENDING, 0)
    assert waiting.last_error == "waiting for /srv/media to be mounted"
    assert waiting.run_at.timestamp() == pytest.approx(clock.now() + 30)
    clock.advance(31)
    queue.wake()
    await next_event(events, EventKind.RETRYING, job.id)  # snoozed again
    clock.advance(31)
    queue.wake()
    await next_event(events, EventKind.COMPLETED, job.id)
    done = await queue.get_job(job.id)
    assert (done.status, done.result, runs) == (JobStatus.COMPLETED, "scanned", [1, 1, 1])


async def test_permanent_failure_skips_remaining_attempts(queue: JobQueue) -> None:
    @queue.handler("doomed", max_attempts=10)
    async def doomed(job: Job) -> None:
        raise PermanentFailure("the file is gone")

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("doomed")
    await next_event(events, EventKind.FAILED, job.id)
    failed = await queue.get_job(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.attempts == 1
    assert failed.last_error == "PermanentFailure: the file is gone"


async def test_timeout_fails_the_attempt(queue: JobQueue) -> None:
    @queue.handler("slow", timeout=0.01, max_attempts=1)
    async def slow(job: Job) -> None:
        await asyncio.Event().wait()

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("slow")
    await next_event(events, EventKind.FAILED, job.id)
    assert (await queue.get_job(job.id)).last_error == "TimeoutError: timed out after 0.01s"


async def test_a_timeout_error_raised_by_the_handler_is_its_own(queue: JobQueue) -> None:
    @queue.handler("net", timeout=60, max_attempts=1)
    async def net(job: Job) -> None:
        raise TimeoutError("upstream did not answer")

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("net")
    await next_event(events, EventKind.FAILED, job.id)
    assert (await queue.get_job(job.id)).last_error == "TimeoutError: upstream did not answer"


async def test_long_error_text_is_truncated(queue: JobQueue) -> None:
    @queue.handler("loud", max_attempts=1)
    async def loud(job: Job) -> None:
        raise ValueError("x" * 100_000)

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("loud")
    await next_event(events, EventKind.FAILED, job.id)
    error = (await queue.get_job(job.id)).last_error
    assert error is not None
    assert error.startswith("ValueError: xxx")
    assert error.endswith("[truncated]")
    assert len(error) <= 4000


async def test_follow_ups_are_added_with_the_parent(queue: JobQueue) -> None:
    children: list[Job] = []

    @queue.handler("parent")
    async def parent(job: Job) -> Complete:
        return Complete(
            result="ok",
            follow_ups=[
                JobSpec("child", {"n": 1}),
                JobSpec("child", {"n": 2}, priority=1, parent_id=None),
            ],
        )

    @queue.handler("child")
    async def child(job: Job) -> None:
        children.append(job)

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("parent")
    await wait_until(lambda: len(children) == 2, "both follow-ups to run")
    completed = await next_event(events, EventKind.COMPLETED, job.id)
    assert completed.data["follow_ups"] == 2
    assert {child.parent_id for child in children} == {job.id}
    assert sorted(int(str(child.payload["n"])) for child in children) == [1, 2]
    assert (await queue.get_job(job.id)).result == "ok"


async def test_a_bad_follow_up_fails_the_attempt_and_adds_nothing(
    queue: JobQueue, storage: MemoryStorage
) -> None:
    @queue.handler("parent", max_attempts=1)
    async def parent(job: Job) -> Complete:
        return Complete(follow_ups=[JobSpec("child"), JobSpec("nobody-handles-this")])

    queue.declare("child")
    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("parent")
    await next_event(events, EventKind.FAILED, job.id)
    failed = await queue.get_job(job.id)
    assert failed.last_error is not None
    assert failed.last_error.startswith("UnknownJobType:")
    assert [j.type for j in storage.active.values()] == []


async def test_an_unserialisable_result_fails_the_attempt(queue: JobQueue) -> None:
    @queue.handler("odd", max_attempts=1)
    async def odd(job: Job) -> object:
        return {1, 2}

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("odd")
    await next_event(events, EventKind.FAILED, job.id)
    error = (await queue.get_job(job.id)).last_error
    assert error is not None
    assert "not JSON-serialisable" in error


async def test_concurrency_bounds_running_handlers(queue: JobQueue) -> None:
    running = 0
    peak = 0
    release = asyncio.Event()

    @queue.handler("work")
    async def work(job: Job) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    events = queue.events.subscribe()
    await queue.start(concurrency=3)
    jobs = await queue.add_jobs([JobSpec("work") for _ in range(7)])
    await wait_until(lambda: running == 3, "three handlers to run")
    release.set()
    for job in jobs:
        await next_event(events, EventKind.COMPLETED, job.id)
    assert peak == 3


async def test_claim_order_is_priority_then_age(queue: JobQueue) -> None:
    order: list[int] = []

    @queue.handler("work")
    async def work(job: Job) -> None:
        order.append(int(str(job.payload["n"])))

    await queue.add_jobs(
        [JobSpec("work", {"n": 1}, priority=5), JobSpec("work", {"n": 2}, priority=1)]
    )
    await queue.add_job("work", {"n": 3}, priority=1)
    await queue.start(concurrency=1)
    await wait_until(lambda: len(order) == 3, "three jobs to run")
    assert order == [2, 3, 1]


async def test_delayed_job_runs_once_due(
    queue: JobQueue, storage: MemoryStorage, clock: FakeClock
) -> None:
    ran = asyncio.Event()

    @queue.handler("later")
    async def later(job: Job) -> None:
        ran.set()

    await queue.start()
    idle_before = storage.calls["next_due"]
    await queue.add_job("later", delay=30)
    # The add woke the dispatcher; once it asks for the next due time it found nothing due.
    await wait_until(lambda: storage.calls["next_due"] > idle_before, "the dispatcher to idle")
    assert not ran.is_set()
    clock.advance(30)
    queue.wake()
    await asyncio.wait_for(ran.wait(), timeout=5.0)
