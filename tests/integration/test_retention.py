"""The daily prune of history (``[queue] history_days``) on a real SQLite queue: what it
deletes, that one schedule runs per deployment, and that it schedules its successor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relayarr.app import build_queue
from relayarr.config import Settings
from relayarr.jobqueue import Job, JobId, JobQuery, JobQueue, JobStatus, StorageEngine, open_storage
from relayarr.jobqueue.clock import FakeClock
from relayarr.pipeline import PRUNE_HISTORY, schedule_retention
from relayarr.pipeline.retention import (
    FIRST_PRUNE_DELAY,
    PRUNE_EVERY,
    PRUNE_HISTORY_KEY,
    handle_prune_history,
)

DAY = 86_400.0
TYPE = "chore"


def settings(tmp_path: Path, history_days: float) -> Settings:
    return Settings.model_validate(
        {"data_dir": tmp_path / "data", "queue": {"history_days": history_days}}
    )


async def finish(queue: JobQueue, storage: StorageEngine, count: int) -> None:
    """``count`` jobs run to completion at the storage clock's now."""
    for _ in range(count):
        await queue.add_job(TYPE, {})
    for job in await storage.claim("test", [TYPE], count, 30.0):
        assert job.lease is not None
        await storage.complete(job.lease, None)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[StorageEngine]:
    opened = await open_storage(f"sqlite:///{tmp_path}/queue.db", clock=FakeClock())
    try:
        yield opened
    finally:
        await opened.aclose()


HISTORY = JobQuery(statuses=(JobStatus.COMPLETED,), types=(TYPE,), limit=100)


async def test_it_deletes_what_finished_before_the_window_and_schedules_the_next(
    tmp_path: Path, storage: StorageEngine
) -> None:
    clock = storage.clock
    assert isinstance(clock, FakeClock)
    queue = build_queue(settings(tmp_path, 30), storage, strict_types=False)
    await finish(queue, storage, 3)
    clock.advance(20 * DAY)
    await finish(queue, storage, 2)
    clock.advance(11 * DAY)  # the first three finished 31 days ago, the others 11

    job = await schedule_retention(queue, 30, delay=0)
    assert job is not None
    done = await handle_prune_history(queue, 30, job)
    assert done.result == {"deleted": 3, "history_days": 30}
    assert len((await queue.list_jobs(HISTORY)).jobs) == 2
    (successor,) = done.follow_ups
    assert (successor.type, successor.unique_key, successor.delay) == (
        PRUNE_HISTORY,
        PRUNE_HISTORY_KEY,
        PRUNE_EVERY,
    )


async def test_one_schedule_per_deployment_and_none_when_off(
    tmp_path: Path, storage: StorageEngine
) -> None:
    queue = build_queue(settings(tmp_path, 90), storage)
    assert await schedule_retention(queue, 0) is None
    first = await schedule_retention(queue, 90)
    again = await schedule_retention(queue, 90)  # another process, or a restart
    assert first is not None
    assert again is not None
    assert again.id == first.id
    assert first.run_at.timestamp() == pytest.approx(storage.clock.now() + FIRST_PRUNE_DELAY)


async def test_a_prune_left_from_an_earlier_configuration_ends_without_successor(
    tmp_path: Path, storage: StorageEngine
) -> None:
    queue = build_queue(settings(tmp_path, 0), storage, strict_types=False)
    await finish(queue, storage, 2)
    job = await queue.add_job(PRUNE_HISTORY, {}, unique_key=PRUNE_HISTORY_KEY)
    done = await handle_prune_history(queue, 0, job)
    assert done.follow_ups == ()
    assert done.result == {"deleted": 0, "skipped": "history_days is 0: history is kept"}
    assert len((await queue.list_jobs(HISTORY)).jobs) == 2


async def test_a_running_queue_prunes_and_keeps_the_schedule(tmp_path: Path) -> None:
    """Through the worker, on the real clock: the prune's successor takes the unique key
    the finished prune gave up, in the same transaction."""
    storage = await open_storage(f"sqlite:///{tmp_path}/queue.db")
    days = 0.5 / DAY  # half a second
    queue = build_queue(settings(tmp_path, days), storage, strict_types=False)

    async def chore(_job: object) -> None:
        return None

    queue.register(TYPE, chore)
    try:
        await queue.start(concurrency=2)
        old = await queue.add_job(TYPE, {})
        await wait_for(queue, old.id)
        await asyncio.sleep(0.7)  # now older than the window
        prune = await schedule_retention(queue, days, delay=0)
        assert prune is not None
        done = await wait_for(queue, prune.id)
        assert done.result == {"deleted": 1, "history_days": days}
        query = JobQuery(types=(PRUNE_HISTORY,), statuses=(JobStatus.PENDING,))
        (waiting,) = (await queue.list_jobs(query)).jobs
        assert (waiting.status, waiting.unique_key) == (JobStatus.PENDING, PRUNE_HISTORY_KEY)
        assert waiting.run_at.timestamp() == pytest.approx(storage.clock.now() + PRUNE_EVERY, abs=5)
    finally:
        await queue.stop()
        await storage.aclose()


async def wait_for(queue: JobQueue, job_id: JobId, within: float = 20.0) -> Job:
    async with asyncio.timeout(within):
        while True:
            job = await queue.get_job(job_id)
            if job.status is JobStatus.COMPLETED:
                return job
            assert job.status is not JobStatus.FAILED, job.last_error
            await asyncio.sleep(0.02)
