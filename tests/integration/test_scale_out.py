"""Scaling out: four ``relayarr worker`` processes on one queue share 10,000 jobs.

On each engine that several processes can share (sqlite, postgresql, redis), four real
worker processes (``relayarr worker --import scale_handlers``) start, then 10,000 jobs are
added. Each execution is recorded by the handler in its process's own file (see
:mod:`scale_handlers`). Afterwards every job must have run exactly once (first attempt, no
rescue: nothing here expires a lease), no two executions of one job may overlap, every
worker must have done some of the work, the active table must be empty, and the history
must hold each job once, completed.

Deadlines only stop a broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from scale_handlers import JOB_TYPE, RECORDS_ENV

from relayarr.jobqueue import (
    Job,
    JobQuery,
    JobQueue,
    JobSpec,
    JobStatus,
    StorageEngine,
    open_storage,
)
from servers import postgres_server, redis_server

pytestmark = pytest.mark.slow

WORKERS = 4
JOBS = 10_000
BATCH = 500  # jobs per add_jobs call: workers start on the first while the rest arrive
CONCURRENCY = "8"
DEADLINE = 300.0  # seconds; only against hanging
HANDLERS_DIR = Path(__file__).parent  # scale_handlers.py, importable by the workers


@dataclass(frozen=True, slots=True)
class Execution:
    """One run of a handler, from its ``start`` and ``end`` records."""

    job_id: int
    attempt: int
    pid: int
    start: int  # time.monotonic_ns()
    end: int


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
async def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty queue on each engine that several processes can share."""
    engine: str = request.param
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
    elif engine == "postgresql":
        async with postgres_server().fresh_database() as url:
            yield url
    else:
        async with redis_server().fresh_database() as url:
            yield url


def relayarr_command() -> list[str]:
    script = Path(sys.executable).with_name("relayarr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "relayarr"]


class Workers:
    """``relayarr worker`` processes on one queue URL, with their logs."""

    def __init__(self, tmp_path: Path, url: str, records: Path) -> None:
        self.tmp_path = tmp_path
        self.records = records
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
        pythonpath = os.pathsep.join(filter(None, [str(HANDLERS_DIR), env.get("PYTHONPATH")]))
        self.env = {
            **env,
            "RELAYARR_QUEUE_URL": url,  # not on the command line: it holds a password
            RECORDS_ENV: str(records),
            "PYTHONPATH": pythonpath,
        }
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def spawn(self) -> None:
        log = self.tmp_path / f"worker-{len(self.processes) + 1}.log"
        command = [
            *relayarr_command(),
            "worker",
            "--concurrency",
            CONCURRENCY,
            "--import",
            "scale_handlers",
        ]
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                command,
                cwd=self.tmp_path,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.processes.append((process, log))

    @property
    def pids(self) -> set[int]:
        return {process.pid for process, _ in self.processes}

    def logs(self, tail: int = 30) -> str:
        return "\n".join(
            f"--- pid {process.pid} (exit {process.poll()})\n"
            + "\n".join(log.read_text(errors="replace").splitlines()[-tail:])
            for process, log in self.processes
        )

    async def wait_until(self, what: str, condition: Callable[[], Awaitable[bool]]) -> None:
        deadline = time.monotonic() + DEADLINE
        while not await condition():
            if any(process.poll() is not None for process, _ in self.processes):
                pytest.fail(f"a worker exited while waiting for {what}\n{self.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}\n{self.logs()}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """SIGTERM every worker and wait for each to exit; each must exit with 0."""
        for process, _ in self.processes:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + DEADLINE
        while any(process.poll() is None for process, _ in self.processes):
            if time.monotonic() > deadline:
                pytest.fail(f"workers did not stop after SIGTERM\n{self.logs()}")
            await asyncio.sleep(0.05)
        codes = [process.returncode for process, _ in self.processes]
        assert codes == [0] * len(codes), self.logs()

    def reap(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()


def read_lines(records: Path) -> list[dict[str, int | str]]:
    lines: list[dict[str, int | str]] = []
    for path in sorted(records.glob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


def ready_pids(records: Path) -> set[int]:
    return {int(line["pid"]) for line in read_lines(records) if line["event"] == "ready"}


def executions(records: Path) -> tuple[list[Execution], list[str]]:
    """Every execution, pairing each ``start`` with its ``end``; plus what does not pair."""
    started: dict[tuple[int, int, int], int] = {}
    done: list[Execution] = []
    problems: list[str] = []
    for line in read_lines(records):
        if line["event"] == "ready":
            continue
        key = (int(line["pid"]), int(line["job"]), int(line["attempt"]))
        if line["event"] == "start":
            if key in started:
                problems.append(f"pid {key[0]} started job {key[1]} twice at once")
            started[key] = int(line["t"])
        elif key not in started:
            problems.append(f"pid {key[0]} ended job {key[1]} without starting it")
        else:
            pid, job_id, attempt = key
            done.append(Execution(job_id, attempt, pid, started.pop(key), int(line["t"])))
    problems += [f"pid {pid} never ended job {job_id}" for pid, job_id, _ in started]
    return done, problems


def overlaps(runs: list[Execution]) -> list[str]:
    """Pairs of executions of one job that were running at the same time."""
    by_job: dict[int, list[Execution]] = defaultdict(list)
    for run in runs:
        by_job[run.job_id].append(run)
    found = []
    for job_id, same in by_job.items():
        same.sort(key=lambda run: run.start)
        for earlier, later in itertools.pairwise(same):
            if later.start < earlier.end:
                found.append(f"job {job_id}: pid {earlier.pid} and pid {later.pid} at once")
    return found


async def every_job(storage: StorageEngine) -> list[Job]:
    """Every job, active or historical, paging newest first."""
    jobs: list[Job] = []
    query = JobQuery(limit=1000)
    while True:
        page = await storage.list(query)
        jobs += page.jobs
        if page.next_cursor is None:
            return jobs
        query = JobQuery(limit=1000, before_id=page.next_cursor)


async def test_four_workers_share_ten_thousand_jobs(tmp_path: Path, queue_url: str) -> None:
    records = tmp_path / "records"
    records.mkdir()
    storage = await open_storage(queue_url)  # creates and migrates the schema once
    workers = Workers(tmp_path, queue_url, records)
    try:
        for _ in range(WORKERS):
            workers.spawn()

        async def all_ready() -> bool:
            return ready_pids(records) == workers.pids

        await workers.wait_until("every worker to register its handler", all_ready)
        queue = JobQueue(storage)
        queue.declare(JOB_TYPE)
        ids: set[int] = set()
        for _ in range(0, JOBS, BATCH):
            added = await queue.add_jobs(JobSpec(JOB_TYPE) for _ in range(BATCH))
            ids.update(job.id for job in added)
        assert len(ids) == JOBS

        async def drained() -> bool:
            stats = await storage.stats()
            active = stats.count(JobStatus.PENDING) + stats.count(JobStatus.PROCESSING)
            finished = sum(stats.count(status) for status in JobStatus if status.is_terminal)
            return active == 0 and finished == JOBS

        await workers.wait_until("every job to finish", drained)
        await workers.stop()

        runs, problems = executions(records)
        assert problems == [], "\n".join(problems[:20])
        assert overlaps(runs) == []
        per_job = Counter(run.job_id for run in runs)
        assert set(per_job) == ids, "a job never ran, or a job nobody added did"
        assert [job_id for job_id, n in per_job.items() if n != 1] == []
        assert {run.attempt for run in runs} == {1}
        per_worker = Counter(run.pid for run in runs)
        assert set(per_worker) == workers.pids, f"not every worker did work: {per_worker}"

        stats = await storage.stats()
        assert stats.count(JobStatus.PENDING) + stats.count(JobStatus.PROCESSING) == 0
        jobs = await every_job(storage)
        assert sorted(job.id for job in jobs) == sorted(ids)
        wrong = [
            f"{job.id}: {job.status} attempts={job.attempts} rescues={job.rescues}"
            for job in jobs
            if (job.status, job.attempts, job.rescues) != (JobStatus.COMPLETED, 1, 0)
        ]
        assert wrong == [], "\n".join(wrong[:20])
    finally:
        workers.reap()
        await storage.aclose()
