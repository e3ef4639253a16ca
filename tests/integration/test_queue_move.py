"""``relayarr queue move`` between real engines: every job arrives as it was, once.

Pairs cover each engine as source and as target (sqlite -> redis -> postgresql -> sqlite).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from relayarr.cli.queue_cmd import move_jobs
from relayarr.errors import MoveRefused
from relayarr.jobqueue import Job, JobQuery, JobStatus, open_storage
from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.models import NewJob
from relayarr.jobqueue.storage import StorageEngine
from servers import postgres_server, redis_server

START = 1_700_000_000.25
PAIRS = [("sqlite", "redis"), ("redis", "postgresql"), ("postgresql", "sqlite")]


def database(engine: str, tmp_path: Path) -> AbstractAsyncContextManager[str]:
    if engine == "redis":
        return redis_server().fresh_database()
    if engine == "postgresql":
        return postgres_server().fresh_database()

    @asynccontextmanager
    async def sqlite() -> AsyncIterator[str]:
        yield f"sqlite:///{tmp_path}/{len(list(tmp_path.iterdir()))}.db"

    return sqlite()


@pytest.fixture(params=PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
async def urls(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    source_engine, target_engine = request.param
    async with database(source_engine, tmp_path) as a, database(target_engine, tmp_path) as b:
        yield a, b


@pytest.fixture
async def storages(urls: tuple[str, str]) -> AsyncIterator[tuple[StorageEngine, StorageEngine]]:
    clock = FakeClock(START)
    source = await open_storage(urls[0], clock=clock)
    target = await open_storage(urls[1], clock=clock)
    try:
        yield source, target
    finally:
        await source.aclose()
        await target.aclose()


async def everything(storage: StorageEngine) -> list[Job]:
    """Every job of the storage, newest first."""
    jobs: list[Job] = []
    cursor = None
    while True:
        page = await storage.list(JobQuery(before_id=cursor, limit=7))
        jobs += page.jobs
        if page.next_cursor is None:
            return jobs
        cursor = page.next_cursor


async def fill(storage: StorageEngine) -> None:
    """Jobs in every movable state, with results, errors, keys, parents and delays."""
    clock = storage.clock
    assert isinstance(clock, FakeClock)
    now = clock.now()
    added = await storage.add(
        [new("scan", {"n": n, "s": "é"}, now, priority=1 + n % 3) for n in range(12)]
    )
    parent = added[0].job.id
    await storage.add(
        [
            new("notify", {"k": 1}, now, unique_key="once", parent_id=parent),
            new("later", {}, now, delay=3600.5, max_attempts=7),
        ]
    )
    clock.advance(1.5)
    claimed = await storage.claim("w1", ["scan"], 6, 30.0)
    clock.advance(0.75)
    await storage.complete(claimed[0].lease, '{"ok": [1, 2.5, null]}')
    await storage.complete(claimed[1].lease, None)
    await storage.fail(claimed[2].lease, "boom", None)
    await storage.fail(claimed[3].lease, "again", START + 100.125)
    await storage.release(claimed[4].lease)
    await storage.fail(claimed[5].lease, "last", None)
    await storage.retry(claimed[5].id)
    await storage.cancel(added[11].job.id)


def new(job_type: str, payload: dict[str, object], now: float, **options: object) -> NewJob:
    return NewJob.create(job_type, payload, now=now, **options)  # type: ignore[arg-type]


async def test_every_job_arrives_once_under_its_id_as_it_was(
    storages: tuple[StorageEngine, StorageEngine],
) -> None:
    source, target = storages
    await fill(source)
    before = await everything(source)
    assert {job.status for job in before} == {
        JobStatus.PENDING,
        JobStatus.COMPLETED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    }
    report = await move_jobs(source, target)
    assert (report.read, report.stored) == (len(before), len(before))
    assert await everything(target) == before
    assert await everything(source) == before, "the source is left as it was"

    again = await move_jobs(source, target)
    assert (again.read, again.stored) == (len(before), 0)
    assert await everything(target) == before

    fresh = await target.add([new("scan", {}, START)])
    assert fresh[0].job.id > max(job.id for job in before)


async def test_moved_pending_jobs_run_on_the_target(
    storages: tuple[StorageEngine, StorageEngine],
) -> None:
    source, target = storages
    await fill(source)
    await move_jobs(source, target)
    now = target.clock.now()
    pending = [j for j in await everything(source) if j.status is JobStatus.PENDING]
    due = {j.id for j in pending if j.type == "scan" and j.run_at.timestamp() <= now}
    claimed = await target.claim("w2", ["scan"], 100, 30.0)
    assert {job.id for job in claimed} == due
    # The moved job still holds its unique key on the target.
    held = next(j for j in pending if j.unique_key == "once")
    again = await target.add([new("notify", {}, now, unique_key="once")])
    assert (again[0].created, again[0].job.id) == (False, held.id)


async def test_a_processing_job_on_the_source_refuses_the_move(
    storages: tuple[StorageEngine, StorageEngine],
) -> None:
    source, target = storages
    await source.add([new("scan", {}, START)])
    await source.claim("busy-worker", ["scan"], 1, 30.0)
    with pytest.raises(MoveRefused, match="busy-worker"):
        await move_jobs(source, target)
    assert await everything(target) == []


def test_the_command_moves_and_refuses_with_one_clear_line(tmp_path: Path) -> None:
    source_url = f"sqlite:///{tmp_path}/source.db"
    target_url = f"sqlite:///{tmp_path}/target.db"

    async def prepare(busy: bool) -> None:
        storage = await open_storage(source_url)
        try:
            await storage.add([new("scan", {"n": n}, START) for n in range(3)])
            if busy:
                await storage.claim("busy-worker", ["scan"], 1, 30.0)
        finally:
            await storage.aclose()

    def move() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "relayarr",
                "queue",
                "move",
                "--from",
                source_url,
                "--to",
                target_url,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    asyncio.run(prepare(busy=False))
    first = move()
    assert first.returncode == 0, first.stderr
    assert "moved 3 jobs" in first.stdout
    second = move()
    assert second.returncode == 0, second.stderr
    assert "moved 0 jobs" in second.stdout
    assert "3 already there" in second.stdout
    asyncio.run(prepare(busy=True))
    refused = move()
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: workers are active")
    assert "busy-worker" in refused.stderr
    assert "Traceback" not in refused.stderr
