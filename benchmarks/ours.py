"""relayarr's side of every workload, through the public API only.

Each function opens the SQLite file it is given (creating and migrating it when new), runs
one measurement, checks the outcome (so a broken engine cannot post a good number) and
closes the storage. Handlers are no-ops that count; nothing subscribes to the event bus,
so the queue pays for no events, just as in a service with no dashboard open.
"""

from __future__ import annotations

import asyncio
import cProfile
import random
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import (
    JOB_TYPE,
    LATENCY_PAUSE,
    Latency,
    StallMonitor,
    Throughput,
    Timed,
    frozen_heap,
    sqlite_url,
)
from relayarr.jobqueue import Job, JobQueue, JobSpec, JobStatus, StorageEngine, open_storage

Profiler = cProfile.Profile | None  # enabled for exactly the timed part of a workload
DRAIN_TIMEOUT = 600.0  # seconds: a drain that takes longer is broken, not slow


async def _open(db: Path) -> tuple[StorageEngine, JobQueue]:
    storage = await open_storage(sqlite_url(db))
    return storage, JobQueue(storage)


def _commits(storage: StorageEngine) -> int | None:
    # The SQLite engine counts its (group) commits; not part of the Storage protocol.
    commits = getattr(storage, "commits", None)
    return commits if isinstance(commits, int) else None


async def _fill(queue: JobQueue, jobs: int) -> None:
    """Add ``jobs`` pending no-op jobs in batches (setup, never timed)."""
    for start in range(0, jobs, 50_000):
        count = min(50_000, jobs - start)
        await queue.add_jobs(JobSpec(JOB_TYPE) for _ in range(count))


async def _completed(queue: JobQueue) -> int:
    return (await queue.stats()).count(JobStatus.COMPLETED)


async def enqueue_each(db: Path, jobs: int, *, profiler: Profiler = None) -> Throughput:
    """``jobs`` calls of ``await queue.add_job(...)``, one after the other."""
    storage, queue = await _open(db)
    try:
        queue.declare(JOB_TYPE)
        before = _commits(storage)
        with Timed(profiler) as timed:
            for _ in range(jobs):
                await queue.add_job(JOB_TYPE)
        after = _commits(storage)
        pending = (await queue.stats()).count(JobStatus.PENDING)
        if pending != jobs:
            raise RuntimeError(f"enqueued {jobs} jobs but {pending} are pending")
    finally:
        await storage.aclose()
    commits = after - before if after is not None and before is not None else None
    return Throughput(jobs, timed.seconds, commits=commits)


async def enqueue_batch(db: Path, jobs: int, *, profiler: Profiler = None) -> Throughput:
    """One ``await queue.add_jobs(specs)`` of ``jobs`` specs, built beforehand: the caller
    has its data ready; validating, storing and returning the jobs is what is timed."""
    storage, queue = await _open(db)
    try:
        queue.declare(JOB_TYPE)
        specs = [JobSpec(JOB_TYPE) for _ in range(jobs)]
        with Timed(profiler) as timed:
            added = await queue.add_jobs(specs)
        if len(added) != jobs:
            raise RuntimeError(f"add_jobs returned {len(added)} jobs for {jobs}")
    finally:
        await storage.aclose()
    return Throughput(jobs, timed.seconds)


async def drain(db: Path, jobs: int, concurrency: int, *, profiler: Profiler = None) -> Throughput:
    """Pre-fill ``jobs`` no-op jobs (on top of whatever ``db`` holds), then time from
    ``queue.start(concurrency)`` until the last one completed and the queue stopped.

    The handler counts; the count reaching ``jobs`` ends the wait, and ``stop()`` waits
    for the last completions to commit, so the clock covers every job's full round trip.
    A ``profiler`` is enabled for exactly the timed part.
    """
    storage, queue = await _open(db)
    try:
        done = asyncio.Event()
        seen = 0

        async def noop(job: Job) -> None:
            nonlocal seen
            seen += 1
            if seen == jobs:
                done.set()

        queue.register(JOB_TYPE, noop)
        await _fill(queue, jobs)
        completed_before = await _completed(queue)
        before = _commits(storage)
        with frozen_heap():
            async with StallMonitor() as monitor:
                with Timed(profiler) as timed:
                    await queue.start(concurrency=concurrency)
                    try:
                        async with asyncio.timeout(DRAIN_TIMEOUT):
                            await done.wait()
                    except TimeoutError:
                        raise RuntimeError(
                            f"only {seen} of {jobs} jobs ran within {DRAIN_TIMEOUT:g} s"
                        ) from None
                    await queue.stop()
        after = _commits(storage)
        completed = await _completed(queue) - completed_before
        if completed != jobs:
            raise RuntimeError(f"drained {jobs} jobs but {completed} completed")
    finally:
        await queue.stop()
        await storage.aclose()
    commits = after - before if after is not None and before is not None else None
    return Throughput(
        jobs, timed.seconds, commits=commits, max_stall=monitor.max_stall, max_busy=monitor.max_busy
    )


async def claim_pairs(dbs: Sequence[Path], jobs: int, block: int = 250) -> list[Throughput]:
    """Per-claim cost on each of ``dbs``: ``jobs`` sequential claim(limit=1) + complete
    pairs on the storage itself, no worker around them (the complete moves the row into
    history). The databases take turns in blocks of ``block`` pairs, so drift on a shared
    machine falls on all of them alike and their figures compare directly."""
    opened: list[tuple[StorageEngine, JobQueue]] = []
    try:
        for db in dbs:
            storage, queue = await _open(db)
            opened.append((storage, queue))
            queue.declare(JOB_TYPE)
            await _fill(queue, jobs)
        spent = [0.0] * len(opened)
        types = [JOB_TYPE]
        for start in range(0, jobs, block):
            count = min(block, jobs - start)
            for index, (storage, queue) in enumerate(opened):
                began = time.perf_counter()
                for _ in range(count):
                    (job,) = await storage.claim(queue.owner, types, 1, 30.0)
                    await storage.complete(job.lease, None)
                spent[index] += time.perf_counter() - began
    finally:
        for storage, _ in opened:
            await storage.aclose()
    return [Throughput(jobs, seconds) for seconds in spent]


async def idle_latency(db: Path, samples: int, seed: int = 0) -> Latency:
    """Worker started and idle; add one job at a time after a short random pause, and
    time from just before ``add_job`` to the first line of the handler."""
    storage, queue = await _open(db)
    loop = asyncio.get_running_loop()
    waiting: asyncio.Future[float] | None = None

    async def noop(job: Job) -> None:
        if waiting is not None and not waiting.done():
            waiting.set_result(time.perf_counter())

    rng = random.Random(seed)
    times: list[float] = []
    try:
        queue.register(JOB_TYPE, noop)
        await queue.start(concurrency=1)
        await asyncio.sleep(0.05)  # let the dispatcher go idle
        for _ in range(samples):
            await asyncio.sleep(rng.uniform(*LATENCY_PAUSE))
            waiting = loop.create_future()
            before = time.perf_counter()
            await queue.add_job(JOB_TYPE)
            began = await asyncio.wait_for(waiting, timeout=30.0)
            times.append(began - before)
    finally:
        await queue.stop()
        await storage.aclose()
    return Latency(times)


async def settle(db: Path) -> None:
    """Open and close ``db`` once, so a prepared file starts checkpointed and migrated."""
    storage, _ = await _open(db)
    await storage.aclose()
