"""What the server suite needs from each system under test: relayarr or one of its peers.

A system is a handful of plain functions over a queue URL (PostgreSQL or Redis), so that
each peer module reads as "this is how that library is used", and the suite and harness
stay the same for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

from benchmarks.server_suite.harness import WorkerMain

Engine = Literal["postgresql", "redis"]
EnqueueOne = Callable[[], float]
"""Enqueue one no-op job; returns ``time.monotonic()`` taken just before the enqueue call."""


@dataclass(frozen=True)
class System:
    """relayarr or a peer on one engine; every function takes the URL of a fresh namespace."""

    name: str
    engine: Engine
    prepare: Callable[[str], None]  # create the schema, if the system has one (untimed)
    enqueue_each: Callable[[str, int], float]  # seconds for N one-per-call enqueues
    fill: Callable[[str, int], None]  # add N jobs as fast as the system allows (untimed)
    check_drained: Callable[[str, int], None]  # raises BenchError unless N jobs finished
    producer: Callable[[str], AbstractContextManager[EnqueueOne]]
    worker: WorkerMain  # run in each worker process; module-level for spawn
    concurrency: tuple[int, ...]  # per-process settings tried; the best median is shown
    slow: bool = False  # drained with Config.slow_jobs instead of Config.jobs
