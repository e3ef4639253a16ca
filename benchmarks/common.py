"""Measurements and the small tools every workload shares: timers, percentiles, stall watch."""

from __future__ import annotations

import asyncio
import cProfile
import gc
import math
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

JOB_TYPE = "noop"  # every benchmark job is a no-op of this type
LATENCY_PAUSE = (0.001, 0.02)  # seconds of random idle time before each latency sample


@dataclass(frozen=True, slots=True)
class Throughput:
    """``jobs`` handled in ``seconds``; ``commits`` is the engine's commit count if known."""

    jobs: int
    seconds: float
    commits: int | None = None
    max_stall: float | None = None  # seconds: longest event-loop stall seen meanwhile
    max_busy: float | None = None  # seconds: most CPU the loop's thread used in one stall

    @property
    def rate(self) -> float:
        """Jobs per second."""
        return self.jobs / self.seconds if self.seconds > 0 else math.inf


@dataclass(frozen=True, slots=True)
class Latency:
    """Enqueue-to-start times of individual jobs, in seconds."""

    samples: Sequence[float]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


class Timed:
    """Wall-clock time of a block, optionally profiled: the profiler covers the block only.

    >>> with Timed(profiler) as timed:  # doctest: +SKIP
    ...     work()
    >>> timed.seconds
    """

    def __init__(self, profiler: cProfile.Profile | None = None) -> None:
        self._profiler = profiler
        self._started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Timed:
        if self._profiler is not None:
            self._profiler.enable()
        self._started = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.seconds = time.perf_counter() - self._started
        if self._profiler is not None:
            self._profiler.disable()


def sqlite_url(path: Path) -> str:
    """relayarr's URL for a database file (an absolute path gives ``sqlite:////...``)."""
    return "sqlite:///" + str(path.absolute())


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep what exists now out of the cyclic collector's sight for the block.

    ``relayarr worker`` and ``relayarr serve`` call ``gc.freeze()`` once started, so a full
    collection walks only what jobs made since. This process also holds every peer's
    modules (about 70,000 tracked objects, against 20,000 for relayarr alone): unfrozen,
    its full collections took 34 ms of the loop here, a pause the worker never sees. Drains
    of relayarr and huey alike run inside this; it is undone afterwards.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class StallMonitor:
    """Watch the running event loop: a task sleeps 1 ms at a time and keeps the largest
    overshoot, which is the longest stretch the loop did not get back to it.

    ``max_stall`` is wall time: on a shared machine it includes time the process was not
    scheduled or sat in a blocking system call. ``max_busy`` is the most CPU time the
    loop's thread itself used within one tick: the longest our own code held the loop.

    >>> async with StallMonitor() as monitor:  # doctest: +SKIP
    ...     await work()
    >>> monitor.max_stall, monitor.max_busy
    """

    TICK = 0.001

    def __init__(self) -> None:
        self.max_stall = 0.0
        self.max_busy = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        wall = time.perf_counter
        cpu = time.thread_time
        while True:
            wall_before, cpu_before = wall(), cpu()
            await asyncio.sleep(self.TICK)
            overshoot = wall() - wall_before - self.TICK
            busy = cpu() - cpu_before
            if overshoot > self.max_stall:
                self.max_stall = overshoot
            if busy > self.max_busy:
                self.max_busy = busy

    async def __aenter__(self) -> StallMonitor:
        self._task = asyncio.create_task(self._watch(), name="bench-stall-monitor")
        await asyncio.sleep(0)  # let it take its first reading
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            # Ours, unless the caller's task is being cancelled too: then pass it on.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
