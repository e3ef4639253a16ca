"""A Redis peer: rq, driven as ``rq worker --burst`` drives it.

* **Enqueue**: ``queue.enqueue(noop)`` in a loop (a pipeline of job hash and queue push).
* **Drain**: rq's own :class:`rq.Worker` in each worker process, ``work(burst=True)``: it
  forks a work horse for every job (rq's isolation model; its default worker class) and
  returns once the queue is empty. rq runs one job at a time per worker, so there is no
  concurrency setting; logging is at WARNING so that no one pays for a line per job.
* **Latency**: the same worker without burst, blocked in BLPOP on the queue.

Results are kept (``result_ttl`` default, 500 s), so finished jobs can be counted after
the drain from rq's FinishedJobRegistry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, FinishedJobRegistry

from benchmarks.server_suite.harness import BenchError, Link
from benchmarks.server_suite.system import EnqueueOne, System

QUEUE_NAME = "bench"
FILL_BATCH = 1_000
LINK: Link | None = None  # set in each worker process; rq's work horses inherit it (fork)


def noop() -> None:
    """The task: rq imports it by its dotted path in the work horse."""
    if LINK is not None:
        LINK.job_ran()


def _queue(url: str) -> Queue:
    return Queue(QUEUE_NAME, connection=Redis.from_url(url))


def prepare(url: str) -> None:
    """rq has no schema."""


def enqueue_each(url: str, jobs: int) -> float:
    queue = _queue(url)
    started = time.perf_counter()
    for _ in range(jobs):
        queue.enqueue(noop)
    elapsed = time.perf_counter() - started
    if queue.count != jobs:
        raise BenchError(f"rq: enqueued {jobs} jobs but {queue.count} are queued")
    return elapsed


def fill(url: str, jobs: int) -> None:
    queue = _queue(url)
    for start in range(0, jobs, FILL_BATCH):
        count = min(FILL_BATCH, jobs - start)
        queue.enqueue_many([Queue.prepare_data(noop) for _ in range(count)])


def check_drained(url: str, jobs: int) -> None:
    queue = _queue(url)
    finished = FinishedJobRegistry(queue=queue).count
    failed = FailedJobRegistry(queue=queue).count
    if (finished, failed, queue.count) != (jobs, 0, 0):
        raise BenchError(
            f"rq: {finished} of {jobs} finished, {failed} failed, {queue.count} still queued"
        )


@contextmanager
def producer(url: str) -> Iterator[EnqueueOne]:
    queue = _queue(url)

    def one() -> float:
        before = time.monotonic()
        queue.enqueue(noop)
        return before

    try:
        yield one
    finally:
        queue.connection.close()


def work(url: str, concurrency: int, link: Link, drain: bool) -> None:
    global LINK
    LINK = link
    try:
        queue = _queue(url)
        worker = Worker([queue], connection=queue.connection)
        link.ready()
        link.go.wait()
        worker.work(burst=drain, logging_level="WARNING")
        link.stopped()
    except BaseException as exc:
        link.failed(exc)
        raise


SYSTEM = System(
    name="rq",
    engine="redis",
    prepare=prepare,
    enqueue_each=enqueue_each,
    fill=fill,
    check_drained=check_drained,
    producer=producer,
    worker=work,
    concurrency=(1,),
    slow=True,
)
