"""relayarr on a server, through the public API only, as its users run it.

* **Enqueue**: ``await queue.add_job("noop")`` in a loop, one process, one job per call.
* **Drain**: in each worker process a :class:`JobQueue` with a no-op handler, started with
  ``queue.start(concurrency)`` and stopped gracefully (``queue.stop()``, which waits for
  the last completions to be written) once every job ran: what ``relayarr worker`` does.
* **Latency**: the worker idles in its own process; the producer's ``add_job`` wakes it
  through the engine (NOTIFY, or Redis pub/sub), never through anything in-process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.common import JOB_TYPE
from benchmarks.server_suite.harness import BenchError, Link
from benchmarks.server_suite.system import Engine, EnqueueOne, System
from relayarr.jobqueue import Job, JobQueue, JobSpec, JobStatus, StorageEngine, open_storage

FILL_BATCH = 5_000


async def _open(url: str) -> tuple[StorageEngine, JobQueue]:
    storage = await open_storage(url)
    queue = JobQueue(storage)
    queue.declare(JOB_TYPE)
    return storage, queue


def prepare(url: str) -> None:
    async def migrate() -> None:
        storage = await open_storage(url)
        await storage.aclose()

    asyncio.run(migrate())


def enqueue_each(url: str, jobs: int) -> float:
    async def run() -> float:
        storage, queue = await _open(url)
        try:
            started = time.perf_counter()
            for _ in range(jobs):
                await queue.add_job(JOB_TYPE)
            elapsed = time.perf_counter() - started
            pending = (await queue.stats()).count(JobStatus.PENDING)
        finally:
            await storage.aclose()
        if pending != jobs:
            raise BenchError(f"relayarr: enqueued {jobs} jobs but {pending} are pending")
        return elapsed

    return asyncio.run(run())


def fill(url: str, jobs: int) -> None:
    async def run() -> None:
        storage, queue = await _open(url)
        try:
            for start in range(0, jobs, FILL_BATCH):
                count = min(FILL_BATCH, jobs - start)
                await queue.add_jobs(JobSpec(JOB_TYPE) for _ in range(count))
        finally:
            await storage.aclose()

    asyncio.run(run())


def check_drained(url: str, jobs: int) -> None:
    async def run() -> tuple[int, int]:
        storage = await open_storage(url)
        try:
            stats = await storage.stats()
        finally:
            await storage.aclose()
        active = stats.count(JobStatus.PENDING) + stats.count(JobStatus.PROCESSING)
        return stats.count(JobStatus.COMPLETED), active

    completed, active = asyncio.run(run())
    if (completed, active) != (jobs, 0):
        raise BenchError(f"relayarr: {completed} of {jobs} completed, {active} still active")


@contextmanager
def producer(url: str) -> Iterator[EnqueueOne]:
    with asyncio.Runner() as runner:
        storage, queue = runner.run(_open(url))

        async def one() -> float:
            before = time.monotonic()
            await queue.add_job(JOB_TYPE)
            return before

        try:
            yield lambda: runner.run(one())
        finally:
            runner.run(storage.aclose())


def work(url: str, concurrency: int, link: Link, drain: bool) -> None:
    """A worker process: no burst mode here, so it always runs until told to stop."""
    try:
        asyncio.run(_work(url, concurrency, link))
    except BaseException as exc:
        link.failed(exc)
        raise


async def _work(url: str, concurrency: int, link: Link) -> None:
    storage = await open_storage(url)
    try:
        queue = JobQueue(storage)

        async def noop(job: Job) -> None:
            link.job_ran()

        queue.register(JOB_TYPE, noop)
        link.ready()
        await asyncio.to_thread(link.go.wait)
        await queue.start(concurrency=concurrency)
        await asyncio.to_thread(link.stop.wait)
        await queue.stop()
        link.stopped()
    finally:
        await storage.aclose()


def system(engine: Engine) -> System:
    return System(
        name="relayarr",
        engine=engine,
        prepare=prepare,
        enqueue_each=enqueue_each,
        fill=fill,
        check_drained=check_drained,
        producer=producer,
        worker=work,
        concurrency=(32, 128),
    )
