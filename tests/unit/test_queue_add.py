"""Adding jobs and registering handlers: validation, unique keys, batches, "added" events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import MemoryStorage

from relayarr.jobqueue import (
    BreakerPolicy,
    EventKind,
    FakeClock,
    InvalidJob,
    Job,
    JobQueue,
    JobSpec,
    JobStatus,
    StorageBusy,
    UnknownJobType,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def storage(clock: FakeClock) -> MemoryStorage:
    return MemoryStorage(clock)


@pytest.fixture
def queue(storage: MemoryStorage) -> JobQueue:
    queue = JobQueue(storage, default_max_attempts=4)

    @queue.handler("scan-movie", max_attempts=5)
    async def scan(job: Job) -> None:
        return None

    return queue


async def test_add_job_stores_a_pending_job(queue: JobQueue, clock: FakeClock) -> None:
    job = await queue.add_job("scan-movie", {"path": "/m"}, priority=2, delay=5)
    assert job.status is JobStatus.PENDING
    assert job.payload == {"path": "/m"}
    assert job.priority == 2
    assert job.run_at.timestamp() == clock.now() + 5
    assert await queue.get_job(job.id) == job


async def test_max_attempts_comes_from_the_call_then_the_handler_then_the_queue(
    queue: JobQueue,
) -> None:
    queue.declare("other")
    assert (await queue.add_job("scan-movie", max_attempts=2)).max_attempts == 2
    assert (await queue.add_job("scan-movie")).max_attempts == 5
    assert (await queue.add_job("other")).max_attempts == 4


async def test_unknown_type_is_refused_and_nothing_is_stored(
    queue: JobQueue, storage: MemoryStorage
) -> None:
    with pytest.raises(UnknownJobType, match="no-such-type"):
        await queue.add_job("no-such-type")
    assert storage.active == {}
    assert storage.calls["add"] == 0


async def test_declared_types_are_accepted_without_a_handler(queue: JobQueue) -> None:
    queue.declare("notify-players", "publish")
    job = await queue.add_job("notify-players")
    assert job.type == "notify-players"
    assert "notify-players" not in queue.handled_types()


async def test_lenient_queue_accepts_any_type(storage: MemoryStorage) -> None:
    queue = JobQueue(storage, strict_types=False)
    assert (await queue.add_job("anything")).type == "anything"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"payload": {"f": {1, 2}}}, "not JSON-serialisable"),
        ({"payload": {"n": float("nan")}}, "not JSON-serialisable"),
        ({"priority": 0}, "priority"),
        ({"priority": 11}, "priority"),
        ({"delay": -1}, "delay"),
        ({"run_at": datetime(2030, 1, 1)}, "timezone-aware"),  # naive on purpose
        ({"max_attempts": 0}, "max_attempts"),
        ({"debounce": True}, "debounce needs a unique_key"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    queue: JobQueue, storage: MemoryStorage, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidJob, match=message):
        await queue.add_job("scan-movie", **kwargs)  # type: ignore[arg-type]
    assert storage.active == {}


async def test_unique_key_returns_the_active_job(queue: JobQueue) -> None:
    events = queue.events.subscribe()
    first = await queue.add_job("scan-movie", {"path": "/m"}, unique_key="/m")
    second = await queue.add_job("scan-movie", {"path": "/m"}, unique_key="/m")
    assert second.id == first.id
    added = [event for event in iter(events.get_nowait, None) if event.kind is EventKind.ADDED]
    assert [event.job_id for event in added] == [first.id]


async def test_add_says_whether_the_job_is_new(queue: JobQueue, clock: FakeClock) -> None:
    """add(spec) is add_job that also tells a new job from the active one holding the key;
    only a new job is announced."""
    events = queue.events.subscribe()
    first = await queue.add(JobSpec("scan-movie", {"path": "/m"}, unique_key="/m", delay=5))
    assert first.created
    assert (first.job.status, first.job.payload, first.job.max_attempts) == (
        JobStatus.PENDING,
        {"path": "/m"},
        5,
    )
    again = await queue.add(JobSpec("scan-movie", unique_key="/m", delay=20, debounce=True))
    assert not again.created
    assert again.job.id == first.job.id
    assert again.job.run_at.timestamp() == clock.now() + 20
    assert await queue.get_job(first.job.id) == again.job
    added = [event for event in iter(events.get_nowait, None) if event.kind is EventKind.ADDED]
    assert [event.job_id for event in added] == [first.job.id]


async def test_add_refuses_what_add_job_refuses(queue: JobQueue, storage: MemoryStorage) -> None:
    with pytest.raises(UnknownJobType):
        await queue.add(JobSpec("nope"))
    with pytest.raises(InvalidJob, match="priority"):
        await queue.add(JobSpec("scan-movie", priority=0))
    assert storage.calls["add"] == 0


async def test_ping_answers_while_storage_does(queue: JobQueue, storage: MemoryStorage) -> None:
    await queue.ping()
    storage.fail_pings = 1
    with pytest.raises(StorageBusy):
        await queue.ping()
    await queue.ping()
    assert storage.calls["ping"] == 3
    assert storage.calls["get"] == 0


async def test_debounce_pushes_the_pending_job_later(queue: JobQueue, clock: FakeClock) -> None:
    first = await queue.add_job("scan-movie", unique_key="/m", delay=5)
    second = await queue.add_job("scan-movie", unique_key="/m", delay=20, debounce=True)
    assert second.id == first.id
    assert second.run_at.timestamp() == clock.now() + 20


async def test_run_at_is_honoured(queue: JobQueue) -> None:
    when = datetime(2031, 5, 1, tzinfo=UTC)
    assert (await queue.add_job("scan-movie", run_at=when)).run_at == when


async def test_add_jobs_is_one_storage_call(queue: JobQueue, storage: MemoryStorage) -> None:
    specs = [JobSpec("scan-movie", {"n": n}, priority=1 + n % 10) for n in range(100)]
    jobs = await queue.add_jobs(specs)
    assert storage.calls["add"] == 1
    assert [job.payload["n"] for job in jobs] == list(range(100))
    assert all(job.max_attempts == 5 for job in jobs)


async def test_add_jobs_validates_everything_before_storing(
    queue: JobQueue, storage: MemoryStorage
) -> None:
    with pytest.raises(UnknownJobType):
        await queue.add_jobs([JobSpec("scan-movie"), JobSpec("nope")])
    assert storage.calls["add"] == 0


async def test_add_jobs_of_nothing_stores_nothing(queue: JobQueue, storage: MemoryStorage) -> None:
    assert await queue.add_jobs([]) == []
    assert storage.calls["add"] == 0


async def test_no_event_is_built_without_subscribers(queue: JobQueue) -> None:
    await queue.add_jobs([JobSpec("scan-movie") for _ in range(10)])
    events = queue.events.subscribe()
    job = await queue.add_job("scan-movie")
    event = events.get_nowait()
    assert event is not None
    # Ids count published events: the ten unobserved adds built none.
    assert (event.id, event.job_id) == (1, job.id)


def test_a_type_has_one_handler(queue: JobQueue) -> None:
    async def again(job: Job) -> None:
        return None

    with pytest.raises(ValueError, match="already has a handler"):
        queue.register("scan-movie", again)


def test_handlers_must_be_async(queue: JobQueue) -> None:
    def sync(job: Job) -> None:
        return None

    with pytest.raises(TypeError, match="async function"):
        queue.register("sync", sync)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"timeout": 0},
        {"timeout": float("inf")},
        {"lease_seconds": -1},
    ],
)
def test_handler_options_are_checked(queue: JobQueue, options: dict[str, object]) -> None:
    async def handler(job: Job) -> None:
        return None

    with pytest.raises(ValueError, match="must be"):
        queue.register("typed", handler, **options)  # type: ignore[arg-type]


def test_breaker_option_resolves_against_the_queue_default(storage: MemoryStorage) -> None:
    own = BreakerPolicy(threshold=2)
    queue = JobQueue(storage, breaker=BreakerPolicy(threshold=9))

    async def handler(job: Job) -> None:
        return None

    queue.register("default", handler)
    queue.register("own", handler, breaker=own)
    queue.register("none", handler, breaker=False)
    assert queue.breaker_policy("default") == BreakerPolicy(threshold=9)
    assert queue.breaker_policy("own") is own
    assert queue.breaker_policy("none") is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lease_seconds": 0},
        {"poll_interval": -1},
        {"max_rescues": -1},
        {"default_max_attempts": 0},
        {"backoff_base": float("nan")},
    ],
)
def test_queue_options_are_checked(storage: MemoryStorage, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        JobQueue(storage, **kwargs)  # type: ignore[arg-type]


async def test_pass_throughs(queue: JobQueue, storage: MemoryStorage, clock: FakeClock) -> None:
    job = await queue.add_job("scan-movie")
    cancelled = await queue.cancel_job(job.id)
    assert cancelled.status is JobStatus.CANCELLED
    again = await queue.retry_job(job.id)
    assert again.status is JobStatus.PENDING
    page = await queue.list_jobs()
    assert [listed.id for listed in page.jobs] == [job.id]
    stats = await queue.stats()
    assert stats.count(JobStatus.PENDING) == 1
    assert await queue.breakers() == []

    await queue.prune(older_than=timedelta(days=7), keep=100)
    assert last_prune(storage) == (clock.now() - 7 * 86400, 100, ())
    await queue.prune(older_than=60)
    assert last_prune(storage) == (clock.now() - 60, None, ())
    with pytest.raises(ValueError, match="keep"):
        await queue.prune(keep=-1)


def last_prune(storage: MemoryStorage) -> object:
    # A call, not an attribute: mypy would keep the first assert's narrowing otherwise.
    return storage.last_prune
