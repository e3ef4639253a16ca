"""Faults on each server engine (PostgreSQL, Redis) with real processes: a worker killed
with SIGKILL mid-job, and the server restarted while jobs flow. Nothing may be lost: every
job ends in a terminal state. The scenarios and assertions are the same for every engine;
what differs (the servers, their URLs, how a restart is done, the outage log phrases) is
the ``ENGINES`` table.

Workers are ``crash_worker.py`` subprocesses (the SQLite crash tests' worker, given a URL).
Deadlines only stop a broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from crash_worker import JOB_TYPE, read_records

from relayarr.jobqueue import (
    Job,
    JobQuery,
    JobQueue,
    JobSpec,
    JobStatus,
    StorageEngine,
    open_storage,
)
from servers import PostgresServer, RedisServer, postgres_server, redis_server

pytestmark = pytest.mark.slow

WORKER_SCRIPT = Path(__file__).with_name("crash_worker.py")
DEADLINE = 120.0  # seconds; only against hanging


class Workers:
    """crash_worker.py processes on one queue URL, with their logs and records."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.tmp_path = tmp_path
        self.url = url
        self.records = tmp_path / "records.jsonl"
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def spawn(self, *options: str) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"worker-{len(self.processes) + 1}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, str(WORKER_SCRIPT), self.url, str(self.records), *options],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.processes.append((process, log))
        return process

    def logs(self, tail: int = 30) -> str:
        return "\n".join(
            f"--- pid {process.pid} (exit {process.poll()})\n"
            + "\n".join(log.read_text(errors="replace").splitlines()[-tail:])
            for process, log in self.processes
        )

    def starts(self) -> Counter[int]:
        return Counter(r.job_id for r in read_records(self.records) if r.event == "start")

    def reap(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()


async def wait_until(
    what: str, condition: Callable[[], Awaitable[bool]], workers: Workers, *, alive: bool = True
) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await condition():
        if alive and any(process.poll() is not None for process, _ in workers.processes):
            pytest.fail(f"a worker exited while waiting for {what}\n{workers.logs()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")
        await asyncio.sleep(0.02)


async def wait_exit(process: subprocess.Popen[bytes], workers: Workers) -> int:
    async def exited() -> bool:
        return process.poll() is not None

    await wait_until(f"pid {process.pid} to exit", exited, workers, alive=False)
    code = process.returncode
    assert code is not None
    return code


async def all_jobs(storage: StorageEngine) -> dict[int, Job]:
    """Every job by id, failing if one shows up both active and in history."""
    jobs: list[Job] = []
    query = JobQuery(limit=1000)
    while True:
        page = await storage.list(query)
        jobs += page.jobs
        if page.next_cursor is None:
            break
        query = JobQuery(limit=1000, before_id=page.next_cursor)
    counts = Counter(job.id for job in jobs)
    assert [job_id for job_id, n in counts.items() if n > 1] == []
    return {job.id: job for job in jobs}


async def add_work(storage: StorageEngine, count: int) -> set[int]:
    queue = JobQueue(storage)
    queue.declare(JOB_TYPE)
    added = await queue.add_jobs([JobSpec(JOB_TYPE, {"kind": "work"}) for _ in range(count)])
    return {job.id for job in added}


@dataclass(frozen=True)
class OwnServer:
    """A started server of one test's own, which the test restarts."""

    storage_url: str  # the test's own storage (PostgreSQL: waits out the restart)
    worker_url: str
    restart: Callable[[], None]
    stop: Callable[[], None]


def own_postgres() -> OwnServer:
    server = PostgresServer()
    server.start()
    url = server.url()
    return OwnServer(url + "?reconnect_timeout=90", url, server.restart, server.stop)


def own_redis() -> OwnServer:
    server = RedisServer()  # AOF on: the jobs survive the SHUTDOWN
    server.start()
    url = server.url(prefix="restart:")
    return OwnServer(url, url, lambda: server.restart(1.5), server.stop)


@dataclass(frozen=True)
class Engine:
    """What differs between the engines; everything else is the tests below."""

    fresh_database: Callable[[], AbstractAsyncContextManager[str]]
    start_own: Callable[[], OwnServer]
    server_name: str
    outage_logs: tuple[str, str]  # logged by a worker when it loses, then regains, the server


ENGINES = {
    "postgresql": Engine(
        fresh_database=lambda: postgres_server().fresh_database(),
        start_own=own_postgres,
        server_name="a PostgreSQL server",
        outage_logs=("postgresql connection failed", "postgresql reachable again"),
    ),
    "redis": Engine(
        fresh_database=lambda: redis_server().fresh_database(),
        start_own=own_redis,
        server_name="a redis-server",
        outage_logs=("redis connection lost; retrying with backoff", "redis connection restored"),
    ),
}


@pytest.fixture(params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> Engine:
    name: str = request.param
    return ENGINES[name]


@pytest.fixture
async def shared_url(engine: Engine) -> AsyncIterator[str]:
    async with engine.fresh_database() as url:
        yield url


@pytest.fixture
def own_server(engine: Engine) -> Iterator[OwnServer]:
    """A server of this test's own: the test restarts it."""
    try:
        server = engine.start_own()
    except Exception as exc:
        pytest.fail(f"cannot start {engine.server_name} for the restart test: {exc}")
    try:
        yield server
    finally:
        server.stop()


async def test_sigkill_mid_job_loses_nothing(tmp_path: Path, shared_url: str) -> None:
    storage = await open_storage(shared_url)
    workers = Workers(tmp_path, shared_url)
    try:
        ids = await add_work(storage, 200)
        first = workers.spawn("--concurrency", "8", "--work-seconds", "0.04")

        async def busy() -> bool:
            stats = await storage.stats()
            return stats.count(JobStatus.COMPLETED) >= 20 and stats.count(JobStatus.PROCESSING) >= 4

        await wait_until("jobs completed and in flight", busy, workers)
        first.send_signal(signal.SIGKILL)
        first.wait()

        held = await storage.list(JobQuery(statuses=[JobStatus.PROCESSING], limit=1000))
        in_flight = {job.id for job in held.jobs}
        assert in_flight, "the kill came after every job had finished"
        assert set(await all_jobs(storage)) == ids

        second = workers.spawn("--concurrency", "8", "--work-seconds", "0.01", "--exit-when-idle")
        code = await wait_exit(second, workers)
        assert code == 0, workers.logs()

        final = await all_jobs(storage)
        assert set(final) == ids, "a job was lost or invented"
        starts = workers.starts()
        problems = []
        for job_id, job in sorted(final.items()):
            rescued = job_id in in_flight
            expected = (1, 2) if rescued else (0, 1)
            if job.status is not JobStatus.COMPLETED or (job.rescues, job.attempts) != expected:
                problems.append(
                    f"{job_id}: {job.status} rescues={job.rescues} attempts={job.attempts}"
                )
            if not (1 <= starts[job_id] <= 2 if rescued else starts[job_id] == 1):
                problems.append(f"{job_id}: started {starts[job_id]} times (in flight: {rescued})")
        assert not problems, "\n".join(problems) + "\n" + workers.logs()
        second_ran = {
            r.job_id
            for r in read_records(workers.records)
            if r.event == "start" and r.pid == second.pid
        }
        assert in_flight <= second_ran
    finally:
        workers.reap()
        await storage.aclose()


async def test_server_restart_while_jobs_flow(
    tmp_path: Path, engine: Engine, own_server: OwnServer
) -> None:
    """Workers ride out a restart (Redis: a SHUTDOWN with AOF on) while they claim,
    heartbeat and complete: they log the outage, reconnect with backoff, and every job
    still completes, none lost. A completion whose outcome the outage made unknown is not
    retried blindly: its lease runs out (5 s here) and the job runs again."""
    storage = await open_storage(own_server.storage_url)
    workers = Workers(tmp_path, own_server.worker_url)
    try:
        ids = await add_work(storage, 600)
        options = ("--concurrency", "8", "--work-seconds", "0.2", "--lease-seconds", "5")
        flowing = [workers.spawn(*options, "--exit-when-idle") for _ in range(2)]

        async def some_done() -> bool:
            return (await storage.stats()).count(JobStatus.COMPLETED) >= 40

        await wait_until("jobs to flow", some_done, workers)
        await asyncio.to_thread(own_server.restart)
        after = (await storage.stats()).count(JobStatus.COMPLETED)
        assert after < len(ids), "every job had finished by the restart: nothing was tested"

        for process in flowing:
            code = await wait_exit(process, workers)
            assert code == 0, workers.logs()

        final = await all_jobs(storage)
        assert set(final) == ids, "a job was lost or invented"
        unfinished = [job for job in final.values() if job.status is not JobStatus.COMPLETED]
        assert unfinished == [], workers.logs()
        done = Counter(r.job_id for r in read_records(workers.records) if r.event == "done")
        assert set(done) == ids
        logs = workers.logs(tail=100_000)
        lost, restored = engine.outage_logs
        assert lost in logs, logs
        assert restored in logs, logs
    finally:
        workers.reap()
        await storage.aclose()
