"""The PostgreSQL peer: procrastinate (psycopg 3 connector), driven as its own worker is.

* **Enqueue**: ``await noop.defer_async()`` in a loop: one INSERT (through procrastinate's
  ``procrastinate_defer_jobs_v1`` function) and one commit per job.
* **Drain**: ``app.run_worker_async(concurrency=N, wait=False)`` in each worker process:
  procrastinate's own worker, which stops by itself once it has caught up with the queue
  (its burst mode). Jobs are kept after completion (``delete_jobs="never"``, the default),
  as relayarr keeps its history.
* **Latency**: the same worker with ``wait=True``: LISTEN/NOTIFY wakes it (on by default),
  with its default 5 s polling as the fallback.

The task is async, as procrastinate advises for I/O-bound work (a sync task would run in
a thread). Everything else is procrastinate's default.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector

from benchmarks.common import JOB_TYPE
from benchmarks.server_suite.harness import BenchError, Link
from benchmarks.server_suite.system import EnqueueOne, System

FILL_BATCH = 1_000


def make_app(url: str, link: Link | None = None) -> tuple[App, Any]:
    """A procrastinate app on ``url`` with one async task, ``noop``; returns (app, task)."""
    app = App(connector=PsycopgConnector(conninfo=url))

    async def noop() -> None:
        if link is not None:
            link.job_ran()

    task = app.task(name=JOB_TYPE)(noop)
    return app, task


def prepare(url: str) -> None:
    async def run() -> None:
        app, _ = make_app(url)
        async with app.open_async():
            await app.schema_manager.apply_schema_async()

    asyncio.run(run())


def _count(url: str, status: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = %s", (status,)
        ).fetchone()
    return int(row[0]) if row else 0


def enqueue_each(url: str, jobs: int) -> float:
    async def run() -> float:
        app, task = make_app(url)
        async with app.open_async():
            started = time.perf_counter()
            for _ in range(jobs):
                await task.defer_async()
            return time.perf_counter() - started

    elapsed = asyncio.run(run())
    if (todo := _count(url, "todo")) != jobs:
        raise BenchError(f"procrastinate: deferred {jobs} jobs but {todo} are to do")
    return elapsed


def fill(url: str, jobs: int) -> None:
    async def run() -> None:
        app, task = make_app(url)
        async with app.open_async():
            for start in range(0, jobs, FILL_BATCH):
                count = min(FILL_BATCH, jobs - start)
                await task.batch_defer_async(*({} for _ in range(count)))

    asyncio.run(run())


def check_drained(url: str, jobs: int) -> None:
    succeeded, todo = _count(url, "succeeded"), _count(url, "todo")
    if (succeeded, todo) != (jobs, 0):
        raise BenchError(f"procrastinate: {succeeded} of {jobs} succeeded, {todo} still to do")


@contextmanager
def producer(url: str) -> Iterator[EnqueueOne]:
    with asyncio.Runner() as runner:
        app, task = make_app(url)

        async def open_app() -> None:
            await app.open_async()

        runner.run(open_app())

        async def one() -> float:
            before = time.monotonic()
            await task.defer_async()
            return before

        try:
            yield lambda: runner.run(one())
        finally:
            runner.run(app.close_async())


def work(url: str, concurrency: int, link: Link, drain: bool) -> None:
    try:
        asyncio.run(_work(url, concurrency, link, drain))
    except BaseException as exc:
        link.failed(exc)
        raise


async def _work(url: str, concurrency: int, link: Link, drain: bool) -> None:
    app, _ = make_app(url, link)
    async with app.open_async():
        link.ready()
        await asyncio.to_thread(link.go.wait)
        await app.run_worker_async(
            concurrency=concurrency, wait=not drain, install_signal_handlers=False
        )
        link.stopped()


SYSTEM = System(
    name="procrastinate",
    engine="postgresql",
    prepare=prepare,
    enqueue_each=enqueue_each,
    fill=fill,
    check_drained=check_drained,
    producer=producer,
    worker=work,
    concurrency=(1, 16),
    slow=True,
)
