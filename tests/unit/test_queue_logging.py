"""Structured logs: context on every record, the job bound for handler logs, no secrets."""

from __future__ import annotations

import logging

import pytest
from fakes import MemoryStorage, next_event

from relayarr.jobqueue import (
    EventKind,
    FakeClock,
    Job,
    JobContextFilter,
    JobQueue,
    current_job,
)

handler_log = logging.getLogger("tests.handler")


def context(record: logging.LogRecord, *names: str) -> tuple[object, ...]:
    """The extra attributes of a record (mypy does not know them)."""
    return tuple(getattr(record, name) for name in names)


@pytest.fixture
def context_filter(caplog: pytest.LogCaptureFixture) -> JobContextFilter:
    job_filter = JobContextFilter()
    caplog.handler.addFilter(job_filter)
    caplog.set_level(logging.DEBUG)
    return job_filter


async def test_handler_logs_carry_the_job(
    caplog: pytest.LogCaptureFixture, context_filter: JobContextFilter
) -> None:
    queue = JobQueue(MemoryStorage(FakeClock()), poll_interval=60.0)
    seen: list[Job | None] = []

    @queue.handler("scan")
    async def scan(job: Job) -> None:
        seen.append(current_job())
        handler_log.info("scanning folder")

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("scan")
    await next_event(events, EventKind.COMPLETED, job.id)
    await queue.stop()

    (record,) = [r for r in caplog.records if r.getMessage() == "scanning folder"]
    assert context(record, "job_id", "type", "attempt") == (job.id, "scan", 1)
    assert [j.id if j else None for j in seen] == [job.id]
    assert current_job() is None  # bound only inside the job's task
    outside = [r for r in caplog.records if r.getMessage() == "worker started"]
    assert context(outside[0], "job_id") == (None,)


async def test_queue_records_have_structured_context(
    caplog: pytest.LogCaptureFixture, context_filter: JobContextFilter
) -> None:
    queue = JobQueue(MemoryStorage(FakeClock()), poll_interval=60.0)

    @queue.handler("scan")
    async def scan(job: Job) -> None:
        return None

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("scan")
    await next_event(events, EventKind.COMPLETED, job.id)
    await queue.stop()

    (record,) = [r for r in caplog.records if r.getMessage() == "job completed"]
    assert record.name == "relayarr.jobqueue.runner"
    assert context(record, "service", "operation", "job_id", "type", "attempt") == (
        "jobqueue",
        "complete",
        job.id,
        "scan",
        1,
    )
    assert isinstance(context(record, "duration_ms")[0], float)


async def test_payloads_and_lease_tokens_never_reach_the_log(
    caplog: pytest.LogCaptureFixture, context_filter: JobContextFilter
) -> None:
    storage = MemoryStorage(FakeClock())
    queue = JobQueue(storage, poll_interval=60.0, backoff_base=0.0)
    tokens: list[str] = []

    @queue.handler("notify", max_attempts=2)
    async def notify(job: Job) -> None:
        assert job.lease_token is not None
        tokens.append(job.lease_token)
        raise RuntimeError("player refused")

    events = queue.events.subscribe()
    await queue.start()
    job = await queue.add_job("notify", {"api_key": "hunter2-secret"})
    await next_event(events, EventKind.FAILED, job.id)
    await queue.stop()

    assert tokens
    dumped = (
        "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in caplog.records)
        + caplog.text
    )
    assert "hunter2-secret" not in dumped
    for token in tokens:
        assert token not in dumped
    failures = [r for r in caplog.records if r.getMessage().startswith("job raised")]
    assert failures
    assert all(r.levelno == logging.WARNING and r.exc_info for r in failures)
