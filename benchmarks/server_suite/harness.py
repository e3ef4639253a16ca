"""Worker processes for the server benchmarks: a start line, a shared count, a stop.

Every system's workers run in processes of their own (``spawn``: nothing inherited but
what is passed), so relayarr and its peers pay alike for crossing a process boundary.
A worker process builds its worker and connects, reports ``ready``, and waits for ``go``;
the clock starts when every worker is ready. Handlers call :meth:`Link.job_ran`, which
counts in shared memory and notes the time the handler began (one clock for every process
on the machine: ``time.monotonic``), so a forking worker's children (rq's work horses)
count too. The clock stops once the count reached the jobs and every worker reported
``stopped``: burst-mode workers stop by themselves when the queue is empty; the others
are asked to stop, gracefully, when the count is reached.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event

from benchmarks.common import LATENCY_PAUSE, Latency, Throughput

CONTEXT = multiprocessing.get_context("spawn")
START_TIMEOUT = 120.0  # seconds for worker processes to start and connect
RUN_TIMEOUT = 900.0  # seconds: a drain that takes longer is broken, not slow
POLL = 0.0005  # seconds between looks at the shared count
EXIT_GRACE = 30.0  # seconds for a stopped worker process to exit by itself
IDLE_SETTLE = 0.5  # seconds for a warmed-up worker to go idle before the first sample


class BenchError(RuntimeError):
    """A workload did not do what it should (a worker died, a job was lost or ran twice)."""


@dataclass(frozen=True)
class Link:
    """What a worker process shares with the benchmark process (picklable for spawn)."""

    count: Synchronized[int]
    last_start: Synchronized[float]
    go: Event
    stop: Event
    messages: multiprocessing.Queue[tuple[str, int, str]]

    @classmethod
    def create(cls) -> Link:
        return cls(
            count=CONTEXT.Value("q", 0),
            last_start=CONTEXT.Value("d", 0.0),
            go=CONTEXT.Event(),
            stop=CONTEXT.Event(),
            messages=CONTEXT.Queue(),
        )

    # -- the worker's side -------------------------------------------------------------------

    def job_ran(self) -> None:
        """Called first thing by every handler."""
        began = time.monotonic()
        with self.count.get_lock():
            self.count.value += 1
            self.last_start.value = began

    def ready(self) -> None:
        self.messages.put(("ready", os.getpid(), ""))

    def stopped(self) -> None:
        self.messages.put(("stopped", os.getpid(), ""))

    def failed(self, error: BaseException) -> None:
        self.messages.put(("failed", os.getpid(), f"{type(error).__name__}: {error}"))

    # -- the benchmark's side ----------------------------------------------------------------

    def wait_for(self, what: str, processes: list[SpawnProcess], timeout: float) -> None:
        """Wait until every process sent ``what``; raise if one failed or died first."""
        waiting = {process.pid for process in processes}
        deadline = time.monotonic() + timeout
        while waiting:
            try:
                event, pid, detail = self.messages.get(timeout=0.05)
            except queue.Empty:
                dead = [p for p in processes if p.pid in waiting and not p.is_alive()]
                if dead:
                    exited = f"worker pid {dead[0].pid} exited ({dead[0].exitcode})"
                    raise BenchError(exited) from None
                if time.monotonic() > deadline:
                    raise BenchError(f"workers not {what} after {timeout:g} s") from None
                continue
            if event == "failed":
                raise BenchError(f"worker pid {pid} failed: {detail}")
            if event == what:
                waiting.discard(pid)

    def wait_count(self, target: int, processes: list[SpawnProcess], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count.value < target:
            if time.monotonic() > deadline:
                raise BenchError(f"only {self.count.value} of {target} jobs ran in {timeout:g} s")
            # A burst worker may leave early (the queue looked empty to it): only a crash,
            # or every worker gone with jobs not run, is a failure.
            crashed = [p for p in processes if p.exitcode not in (None, 0)]
            gone = not any(process.is_alive() for process in processes)
            if crashed or (gone and self.count.value < target):
                raise BenchError(f"workers exited after {self.count.value} of {target} jobs")
            time.sleep(POLL)


WorkerMain = Callable[[str, int, Link, bool], None]
"""``main(url, concurrency, link, drain)``: one worker process (module-level, for spawn).

With ``drain`` the worker is to empty the queue: a peer with a burst mode uses it (and
stops by itself when the queue is empty); otherwise it runs until ``link.stop`` is set or
the process is terminated.
"""


def start_workers(
    main: WorkerMain, url: str, concurrency: int, count: int, *, drain: bool
) -> tuple[Link, list[SpawnProcess]]:
    """Start ``count`` worker processes and wait until each is ready for ``go``."""
    link = Link.create()
    processes = [
        CONTEXT.Process(target=main, args=(url, concurrency, link, drain), daemon=True)
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    try:
        link.wait_for("ready", processes, START_TIMEOUT)
    except BaseException:
        end_workers(processes)
        raise
    return link, processes


def end_workers(processes: list[SpawnProcess], grace: float = 0.0) -> None:
    """Let workers that were told to stop exit for up to ``grace`` seconds, then terminate
    whatever still runs (an idle latency worker, or one left by a failure)."""
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()


def drain(main: WorkerMain, url: str, jobs: int, workers: int, concurrency: int) -> Throughput:
    """Time ``workers`` processes running ``main`` through ``jobs`` pre-filled jobs: from
    ``go`` until every job ran and every worker stopped (its last results written)."""
    link, processes = start_workers(main, url, concurrency, workers, drain=True)
    try:
        started = time.perf_counter()
        link.go.set()
        link.wait_count(jobs, processes, RUN_TIMEOUT)
        link.stop.set()
        link.wait_for("stopped", processes, RUN_TIMEOUT)
        elapsed = time.perf_counter() - started
        end_workers(processes, grace=EXIT_GRACE)  # stopped: let them close and exit
    finally:
        end_workers(processes)
    if link.count.value != jobs:
        raise BenchError(f"{link.count.value} handler runs for {jobs} jobs: some ran twice")
    return Throughput(jobs, elapsed)


def wait_started(link: Link, before: int, timeout: float = 30.0) -> float:
    """Wait for a handler run beyond ``before`` runs; returns when it began."""
    deadline = time.monotonic() + timeout
    while link.count.value <= before:
        if time.monotonic() > deadline:
            raise BenchError(f"no job started within {timeout:g} s of its enqueue")
        time.sleep(POLL / 5)
    with link.count.get_lock():
        return float(link.last_start.value)


def idle_latency(
    main: WorkerMain,
    producer: AbstractContextManager[Callable[[], float]],
    url: str,
    samples: int,
    seed: int,
    *,
    concurrency: int = 1,
) -> Latency:
    """One idle worker process (concurrency 1 unless told); this process enqueues one job
    at a time after a short random pause, timing from just before the enqueue call to the
    first line of the handler in the worker process."""
    link, processes = start_workers(main, url, concurrency, 1, drain=False)
    rng = random.Random(seed)
    times: list[float] = []
    try:
        link.go.set()
        with producer as enqueue_one:
            # One job not timed first: a worker that sets up its wake-up channel (LISTEN,
            # a subscription) while it starts is fully running once that job ran.
            before = link.count.value
            enqueue_one()
            wait_started(link, before)
            time.sleep(IDLE_SETTLE)
            for _ in range(samples):
                time.sleep(rng.uniform(*LATENCY_PAUSE))
                before = link.count.value
                enqueued = enqueue_one()
                times.append(wait_started(link, before) - enqueued)
    finally:
        end_workers(processes)
    return Latency(times)
