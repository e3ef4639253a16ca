"""A Redis peer: arq, driven as ``arq --burst`` drives it.

* **Enqueue**: ``await pool.enqueue_job("noop")`` in a loop (a WATCH/MULTI transaction
  per job: job hash and queue sorted set).
* **Drain**: arq's own :class:`arq.Worker` in each worker process with ``burst=True``: it
  stops by itself once the queue is empty. It polls the queue every ``poll_delay`` (0.5 s
  by default) and reads up to ``max(5 * max_jobs, 100)`` jobs per poll, running up to
  ``max_jobs`` at a time. ``max_jobs`` is the concurrency tried: arq's default 10, and
  more. Results are kept (``keep_result`` default, an hour) and counted afterwards.
* **Latency**: the same worker without burst: a new job waits for its next poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from arq import Worker, create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name, in_progress_key_prefix, result_key_prefix
from arq.worker import func

from benchmarks.common import JOB_TYPE
from benchmarks.server_suite.harness import BenchError, Link
from benchmarks.server_suite.system import EnqueueOne, System

LINK: Link | None = None  # set in each worker process


async def noop(ctx: dict[str, Any]) -> None:
    if LINK is not None:
        LINK.job_ran()


async def _pool(url: str) -> ArqRedis:
    return await create_pool(RedisSettings.from_dsn(url))


def prepare(url: str) -> None:
    """arq has no schema."""


def enqueue_each(url: str, jobs: int) -> float:
    async def run() -> tuple[float, int]:
        pool = await _pool(url)
        try:
            started = time.perf_counter()
            for _ in range(jobs):
                await pool.enqueue_job(JOB_TYPE)
            elapsed = time.perf_counter() - started
            return elapsed, int(await pool.zcard(default_queue_name))
        finally:
            await pool.aclose()

    elapsed, queued = asyncio.run(run())
    if queued != jobs:
        raise BenchError(f"arq: enqueued {jobs} jobs but {queued} are queued")
    return elapsed


def fill(url: str, jobs: int) -> None:
    async def run() -> None:
        pool = await _pool(url)
        try:
            for _ in range(jobs):
                await pool.enqueue_job(JOB_TYPE)
        finally:
            await pool.aclose()

    asyncio.run(run())


async def _count(pool: ArqRedis, pattern: str) -> int:
    return sum([1 async for _ in pool.scan_iter(match=pattern, count=1000)])


def check_drained(url: str, jobs: int) -> None:
    async def run() -> tuple[int, int, int]:
        pool = await _pool(url)
        try:
            queued = int(await pool.zcard(default_queue_name))
            results = await _count(pool, result_key_prefix + "*")
            running = await _count(pool, in_progress_key_prefix + "*")
            return queued, results, running
        finally:
            await pool.aclose()

    queued, results, running = asyncio.run(run())
    if (queued, results, running) != (0, jobs, 0):
        raise BenchError(
            f"arq: {results} results for {jobs} jobs, {queued} queued, {running} in progress"
        )


@contextmanager
def producer(url: str) -> Iterator[EnqueueOne]:
    with asyncio.Runner() as runner:
        pool = runner.run(_pool(url))

        async def one() -> float:
            before = time.monotonic()
            await pool.enqueue_job(JOB_TYPE)
            return before

        try:
            yield lambda: runner.run(one())
        finally:
            runner.run(pool.aclose())


def work(url: str, concurrency: int, link: Link, drain: bool) -> None:
    global LINK
    LINK = link
    try:
        asyncio.run(_work(url, concurrency, link, drain))
    except BaseException as exc:
        link.failed(exc)
        raise


async def _work(url: str, concurrency: int, link: Link, drain: bool) -> None:
    worker = Worker(
        [func(noop, name=JOB_TYPE)],
        redis_pool=await _pool(url),
        burst=drain,
        handle_signals=False,
        max_jobs=concurrency,
    )
    link.ready()
    await asyncio.to_thread(link.go.wait)
    await worker.async_run()
    await worker.close()
    link.stopped()


SYSTEM = System(
    name="arq",
    engine="redis",
    prepare=prepare,
    enqueue_each=enqueue_each,
    fill=fill,
    check_drained=check_drained,
    producer=producer,
    worker=work,
    concurrency=(10, 100),
    slow=True,
)
