"""The circuit breaker as the queue uses it: open, hold attempts, probe, close, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fakes import MemoryStorage, next_event, wait_until

from relayarr.jobqueue import (
    BreakerPhase,
    BreakerPolicy,
    BreakerState,
    EventKind,
    FakeClock,
    Job,
    JobQueue,
    JobSpec,
    JobStatus,
    PermanentFailure,
    Retry,
)

POLICY = BreakerPolicy(threshold=2, cooldown=30.0, max_cooldown=600.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def storage(clock: FakeClock) -> MemoryStorage:
    return MemoryStorage(clock)


@pytest.fixture
async def queue(storage: MemoryStorage) -> AsyncIterator[JobQueue]:
    # backoff_base=0: a failed job is due again at once, so only the breaker holds it back.
    queue = JobQueue(storage, poll_interval=60.0, backoff_base=0.0, breaker=POLICY)
    yield queue
    await queue.stop(timeout=1.0)


class Upstream:
    """A handler whose service is down until told otherwise."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    async def __call__(self, job: Job) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("upstream refused")


async def test_breaker_opens_and_stops_claiming_without_burning_attempts(
    queue: JobQueue, storage: MemoryStorage
) -> None:
    upstream = Upstream()
    queue.register("notify", upstream, max_attempts=10)
    events = queue.events.subscribe(kinds={EventKind.BREAKER})
    await queue.start()
    job = await queue.add_job("notify")

    opened = await next_event(events, EventKind.BREAKER)
    assert opened.job_type == "notify"
    assert (opened.data["previous"], opened.data["phase"]) == ("closed", "open")
    await asyncio.sleep(0.01)  # a closed breaker would have run it again by now
    assert upstream.calls == 2
    held = await queue.get_job(job.id)
    assert (held.status, held.attempts) == (JobStatus.PENDING, 2)
    (state,) = await queue.breakers()
    assert (state.name, state.phase) == ("notify", BreakerPhase.OPEN)


async def test_after_the_cooldown_one_probe_runs_and_success_closes(
    queue: JobQueue, storage: MemoryStorage, clock: FakeClock
) -> None:
    upstream = Upstream()
    queue.register("notify", upstream, max_attempts=10)
    events = queue.events.subscribe(kinds={EventKind.BREAKER, EventKind.COMPLETED})
    await queue.start()
    job = await queue.add_job("notify")
    await next_event(events, EventKind.BREAKER)

    upstream.down = False
    clock.advance(30)
    queue.wake()
    half_open = await next_event(events, EventKind.BREAKER)
    assert half_open.data["phase"] == "half_open"
    assert half_open.data["probe_owner"] == queue.owner
    # The probe's own completion comes first, then the breaker it closed.
    await next_event(events, EventKind.COMPLETED, job.id)
    closed = await next_event(events, EventKind.BREAKER)
    assert (closed.data["previous"], closed.data["phase"]) == ("half_open", "closed")
    assert storage.breaker_states["notify"] == BreakerState(name="notify", updated_at=clock.now())


async def test_a_half_open_type_runs_a_single_probe(
    queue: JobQueue, storage: MemoryStorage, clock: FakeClock
) -> None:
    running = 0
    leave = asyncio.Event()

    @queue.handler("notify")
    async def notify(job: Job) -> None:
        nonlocal running
        running += 1
        await leave.wait()
        running -= 1

    storage.breaker_states["notify"] = BreakerState(
        name="notify",
        phase=BreakerPhase.OPEN,
        failures=2,
        opened_at=clock.now() - 60,
        reopen_at=clock.now() - 1,
        trips=1,
    )
    jobs = await queue.add_jobs([JobSpec("notify") for _ in range(3)])
    events = queue.events.subscribe(kinds={EventKind.COMPLETED})
    await queue.start(concurrency=3)
    await wait_until(lambda: running == 1, "the probe to run")
    # The dispatcher looks up the next due job only once its claim came back short.
    await wait_until(lambda: storage.calls["next_due"] >= 1, "the dispatcher to go idle")
    assert running == 1
    leave.set()
    for job in jobs:
        await next_event(events, EventKind.COMPLETED, job.id)
    assert storage.breaker_states["notify"].phase is BreakerPhase.CLOSED


async def test_a_failed_probe_reopens_for_longer(
    queue: JobQueue, storage: MemoryStorage, clock: FakeClock
) -> None:
    upstream = Upstream()
    queue.register("notify", upstream, max_attempts=10)
    events = queue.events.subscribe(kinds={EventKind.BREAKER})
    await queue.start()
    await queue.add_job("notify")
    first = await next_event(events, EventKind.BREAKER)
    assert first.data["reopen_at"] == clock.now() + 30

    clock.advance(30)
    queue.wake()
    assert (await next_event(events, EventKind.BREAKER)).data["phase"] == "half_open"
    reopened = await next_event(events, EventKind.BREAKER)
    assert (reopened.data["previous"], reopened.data["phase"]) == ("half_open", "open")
    assert reopened.data["reopen_at"] == clock.now() + 60
    assert upstream.calls == 3


@pytest.mark.parametrize(
    "signal", [PermanentFailure("bad input"), Retry(delay=0)], ids=["permanent", "retry"]
)
async def test_handler_signals_do_not_count_against_the_breaker(
    queue: JobQueue, storage: MemoryStorage, signal: Exception
) -> None:
    @queue.handler("picky", max_attempts=5)
    async def picky(job: Job) -> None:
        raise signal

    events = queue.events.subscribe(kinds={EventKind.FAILED})
    await queue.start()
    jobs = await queue.add_jobs([JobSpec("picky") for _ in range(3)])
    for job in jobs:
        await next_event(events, EventKind.FAILED, job.id)
    assert storage.calls["update_breaker"] == 0


async def test_timeouts_count_against_the_breaker(queue: JobQueue, storage: MemoryStorage) -> None:
    @queue.handler("slow", timeout=0.001, max_attempts=10)
    async def slow(job: Job) -> None:
        await asyncio.Event().wait()

    events = queue.events.subscribe(kinds={EventKind.BREAKER})
    await queue.start()
    await queue.add_job("slow")
    assert (await next_event(events, EventKind.BREAKER)).data["phase"] == "open"


async def test_breaker_false_disables_it_for_a_type(queue: JobQueue) -> None:
    upstream = Upstream()
    queue.register("notify", upstream, max_attempts=5, breaker=False)
    events = queue.events.subscribe(kinds={EventKind.FAILED, EventKind.BREAKER})
    await queue.start()
    job = await queue.add_job("notify")
    event = await next_event(events, EventKind.FAILED, job.id)
    assert event.data["attempt"] == 5
    assert events.get_nowait() is None  # no breaker event on the way
    assert await queue.breakers() == []


async def test_successes_on_a_clean_breaker_write_nothing(
    queue: JobQueue, storage: MemoryStorage
) -> None:
    @queue.handler("fine")
    async def fine(job: Job) -> None:
        return None

    events = queue.events.subscribe(kinds={EventKind.COMPLETED})
    await queue.start(concurrency=4)
    jobs = await queue.add_jobs([JobSpec("fine") for _ in range(50)])
    for job in jobs:
        await next_event(events, EventKind.COMPLETED, job.id)
    assert storage.calls["update_breaker"] == 0
    # Breakers are read at most about once a second, not once per claim.
    assert storage.calls["breakers"] <= 2


async def test_a_success_resets_counted_failures(queue: JobQueue, storage: MemoryStorage) -> None:
    upstream = Upstream()
    queue.register("notify", upstream, max_attempts=10, breaker=BreakerPolicy(threshold=5))
    events = queue.events.subscribe(kinds={EventKind.RETRYING, EventKind.COMPLETED})
    await queue.start()
    job = await queue.add_job("notify")
    await next_event(events, EventKind.RETRYING, job.id)
    assert storage.breaker_states["notify"].failures == 1
    upstream.down = False
    await next_event(events, EventKind.COMPLETED, job.id)
    assert storage.breaker_states["notify"].failures == 0


async def test_stopping_hands_back_a_held_probe(
    queue: JobQueue, storage: MemoryStorage, clock: FakeClock
) -> None:
    queue.register("notify", Upstream())
    storage.breaker_states["notify"] = BreakerState(
        name="notify", phase=BreakerPhase.OPEN, failures=2, reopen_at=clock.now() - 1, trips=1
    )
    await queue.start()  # no job to probe with: it wins the probe and holds it
    await wait_until(
        lambda: storage.breaker_states["notify"].phase is BreakerPhase.HALF_OPEN, "a probe"
    )
    await queue.stop()
    state = storage.breaker_states["notify"]
    assert (state.phase, state.probe_owner, state.reopen_at) == (
        BreakerPhase.OPEN,
        None,
        clock.now(),
    )
