"""Several workers, one schedule: two ``relayarr worker`` processes on one PostgreSQL or
Redis queue, with a library and ``reconcile_every`` of two seconds, run the periodic
reconciliation once per period between them, not once per worker.

Each periodic run schedules its successor as its follow-up, so the runs form one chain:
one first run, every other run the child of the one before, no run with two successors,
and each run starting a full period after the previous one finished (its ``run_at``).
Deadlines only stop a broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relayarr.jobqueue import Job, JobQuery, JobStatus, StorageEngine, open_storage
from relayarr.pipeline import RECONCILE
from serve_process import relayarr_command
from servers import postgres_server, redis_server

pytestmark = pytest.mark.slow

PERIOD = 2.0  # seconds
RUNS = 4  # periodic runs to watch
WORKERS = 2
DEADLINE = 120.0  # seconds; only against hanging


@pytest.fixture(params=["postgresql", "redis"])
async def queue_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "postgresql":
        async with postgres_server().fresh_database() as url:
            yield url
    else:
        async with redis_server().fresh_database() as url:
            yield url


def write_config(tmp: Path) -> Path:
    movies, tv = tmp / "srv" / "movies", tmp / "srv" / "tv"
    for root in (movies, tv):
        root.mkdir(parents=True)
    (movies / "Arrival (2016)").mkdir()
    (movies / "Arrival (2016)" / "arrival.mkv").write_bytes(b"\0" * 64)
    config = tmp / "relayarr.toml"
    config.write_text(
        f"""
data_dir = {json.dumps(str(tmp / "data"))}
[queue]
poll_interval = 0.2
[library]
settle_seconds = 0
reconcile_every = "{PERIOD:g}s"
[[library.roots]]
path = {json.dumps(str(movies))}
kind = "movies"
[[library.roots]]
path = {json.dumps(str(tv))}
kind = "series"
"""
    )
    return config


def spawn(tmp: Path, env: dict[str, str], n: int) -> tuple[subprocess.Popen[bytes], Path]:
    """``relayarr worker`` number ``n``, and its log file."""
    log = tmp / f"worker-{n}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*relayarr_command(), "worker", "--concurrency", "2"],
            cwd=tmp,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return process, log


async def reconciles(storage: StorageEngine) -> list[Job]:
    page = await storage.list(JobQuery(types=(RECONCILE,), limit=1000))
    return sorted(page.jobs, key=lambda job: job.id)


async def test_the_periodic_reconciliation_runs_once_per_period_across_workers(
    tmp_path: Path, queue_url: str
) -> None:
    config = write_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
    env.update(RELAYARR_CONFIG=str(config), RELAYARR_QUEUE_URL=queue_url)
    storage = await open_storage(queue_url)  # migrated once, before the workers race
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        processes += [spawn(tmp_path, env, n) for n in range(WORKERS)]

        def logs() -> str:
            return "\n".join(
                f"--- worker {n} (exit {p.poll()})\n{log.read_text(errors='replace')[-3000:]}"
                for n, (p, log) in enumerate(processes)
            )

        deadline = time.monotonic() + DEADLINE
        while True:
            finished = [
                job
                for job in await reconciles(storage)
                if job.payload.get("periodic") is True and job.status is JobStatus.COMPLETED
            ]
            if len(finished) >= RUNS:
                break
            assert all(p.poll() is None for p, _ in processes), logs()
            assert time.monotonic() < deadline, f"{len(finished)} periodic runs\n{logs()}"
            await asyncio.sleep(0.1)
        for process, _ in processes:
            process.send_signal(signal.SIGTERM)
        for process, _ in processes:
            assert process.wait(timeout=DEADLINE) == 0, logs()

        jobs = await reconciles(storage)
        periodic = [job for job in jobs if job.payload.get("periodic") is True]
        by_id = {job.id: job for job in periodic}
        # One schedule: one first run; every other run follows exactly one earlier run.
        firsts = [job for job in periodic if job.parent_id is None]
        assert len(firsts) == 1, periodic
        assert all(job.parent_id in by_id for job in periodic if job.parent_id is not None)
        successors = Counter(job.parent_id for job in periodic if job.parent_id is not None)
        assert [parent for parent, n in successors.items() if n > 1] == []
        # A run waits a full period after the one before it finished.
        done = [job for job in periodic if job.status is JobStatus.COMPLETED]
        for job in done:
            if job.parent_id is None:
                continue
            before = by_id[job.parent_id]
            assert before.finished_at is not None
            assert job.started_at is not None
            waited = (job.started_at - before.finished_at).total_seconds()
            assert waited >= PERIOD * 0.99, (before, job)
        # Each periodic run ran once: first attempt, never two at a time.
        assert {job.attempts for job in done} == {1}
        spans = sorted((job.started_at, job.finished_at) for job in done)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start is not None
            assert end is not None
            assert start >= end, spans
    finally:
        for process, _ in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        await storage.aclose()
