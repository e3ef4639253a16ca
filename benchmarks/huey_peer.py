"""The peer: huey's SqliteStorage, driven the way huey itself drives it.

* **Enqueue**: calling the task (``noop()``), which is ``huey.enqueue(task)``: serialise,
  one INSERT, one commit.
* **Drain**: huey's own :class:`~huey.consumer.Consumer` (``huey.create_consumer``) with
  thread workers and ``periodic=False``, started in this process. Each worker thread
  loops ``huey.dequeue()`` + ``huey.execute(task)``: a DELETE of the task (huey drops a
  task when it picks it up, so a crash loses it) and a revocation check and cleanup.
* **Idle latency**: the same consumer at its default polling (0.1 s, backing off by
  1.15x up to 10 s when the queue stays empty).

Durability: huey's SqliteStorage opens the file in WAL mode and leaves ``synchronous`` at
SQLite's default, FULL here (an fsync per commit). huey offers only FULL or OFF; the
two-line :class:`NormalSqliteStorage` sets NORMAL, the durability of relayarr's default.
"""

from __future__ import annotations

import itertools
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from huey import Huey
from huey.storage import SqliteStorage

from benchmarks.common import JOB_TYPE, LATENCY_PAUSE, Latency, Throughput, frozen_heap

Durability = Literal["normal", "full"]
QUEUE_NAME = "bench"
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class NormalSqliteStorage(SqliteStorage):  # type: ignore[misc]  # huey ships no types
    """huey's SqliteStorage in WAL with ``synchronous=NORMAL``: no fsync per commit."""

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


STORAGES: dict[Durability, type[Any]] = {"normal": NormalSqliteStorage, "full": SqliteStorage}


def make_huey(db: Path, durability: Durability, body: Callable[[], None]) -> tuple[Any, Any]:
    """A huey on ``db`` with one task, ``noop``, running ``body``; returns (huey, task).

    Everything else is huey's default (results stored, WAL, 8 MB cache).
    """
    huey = Huey(
        QUEUE_NAME, storage_class=STORAGES[durability], filename=str(db), journal_mode="wal"
    )

    def noop() -> None:
        body()

    task = huey.task(name=JOB_TYPE)(noop)
    return huey, task


def synchronous_level(huey: Any) -> int:
    """The connection's ``PRAGMA synchronous`` (1 NORMAL, 2 FULL), to show what ran."""
    return int(huey.storage.conn.execute("pragma synchronous").fetchone()[0])


@contextmanager
def consumer(huey: Any, workers: int) -> Iterator[Any]:
    """huey's consumer with thread workers, running in this process; stopped gracefully
    (workers finish their task) on exit.

    ``start()`` also installs the consumer's signal handlers, which only its ``run()`` loop
    acts on; ours are put straight back so Ctrl-C still stops the benchmark.
    """
    saved = {signum: signal.getsignal(signum) for signum in SIGNALS}
    running = huey.create_consumer(workers=workers, periodic=False, worker_type="thread")
    try:
        running.start()
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    try:
        yield running
    finally:
        running.stop(graceful=True)


def enqueue_each(db: Path, durability: Durability, jobs: int) -> Throughput:
    """``jobs`` task calls, each one ``huey.enqueue``: one INSERT and one commit."""
    huey, task = make_huey(db, durability, lambda: None)
    try:
        started = time.perf_counter()
        for _ in range(jobs):
            task()
        elapsed = time.perf_counter() - started
        if huey.pending_count() != jobs:
            raise RuntimeError(f"enqueued {jobs} tasks but {huey.pending_count()} are pending")
    finally:
        huey.storage.close()
    return Throughput(jobs, elapsed)


def fill(db: Path, jobs: int) -> None:
    """Enqueue ``jobs`` tasks through a NORMAL connection (setup, never timed: the durability
    of the filling connection does not matter to the drain that follows)."""
    huey, task = make_huey(db, "normal", lambda: None)
    try:
        for _ in range(jobs):
            task()
    finally:
        huey.storage.close()


def drain(db: Path, durability: Durability, jobs: int, workers: int) -> Throughput:
    """Pre-fill ``jobs`` tasks, then time huey's consumer from start until every task ran
    and the consumer stopped gracefully (so the last task's bookkeeping is done too)."""
    fill(db, jobs)
    done = threading.Event()
    counter = itertools.count(1)  # next() is atomic under the GIL: safe across workers

    def body() -> None:
        if next(counter) == jobs:
            done.set()

    huey, _ = make_huey(db, durability, body)
    try:
        with frozen_heap():
            started = time.perf_counter()
            with consumer(huey, workers):
                if not done.wait(timeout=600):
                    raise RuntimeError("huey's consumer did not drain the queue in 10 minutes")
            elapsed = time.perf_counter() - started
        if huey.pending_count():
            raise RuntimeError(f"{huey.pending_count()} tasks still pending after the drain")
    finally:
        huey.storage.close()
    return Throughput(jobs, elapsed)


def idle_latency(db: Path, durability: Durability, samples: int, seed: int = 0) -> Latency:
    """The consumer running and idle; enqueue one task at a time after a short random
    pause, and time from just before the enqueue to the first line of the task."""
    began: list[float] = []
    started_event = threading.Event()

    def body() -> None:
        began.append(time.perf_counter())
        started_event.set()

    rng = random.Random(seed)
    times: list[float] = []
    huey, task = make_huey(db, durability, body)
    try:
        with consumer(huey, workers=1):
            time.sleep(0.05)
            for _ in range(samples):
                time.sleep(rng.uniform(*LATENCY_PAUSE))
                started_event.clear()
                before = time.perf_counter()
                task()
                if not started_event.wait(timeout=30):
                    raise RuntimeError("huey's consumer did not start a task within 30 s")
                times.append(began[-1] - before)
    finally:
        huey.storage.close()
    return Latency(times)
