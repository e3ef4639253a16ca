"""Idle enqueue-to-start on every engine: the worker in this process, and in another.

In process, an ``add_job`` wakes the worker through an :class:`asyncio.Event`; a producer in
another process can only wake it through the engine (SQLite's WAL file, PostgreSQL's
NOTIFY, Redis pub/sub). Both are measured the same way: one worker at the given
concurrency has run one untimed warm-up job and gone idle; jobs are added one at a time
after a random 1-20 ms pause; each sample runs from just before ``add_job`` to the first
line of the handler, on CLOCK_MONOTONIC (one clock for every process). The worker keeps the
default ``poll_interval`` (1 s), so a wake-up that is lost shows as a sample near a second.

Rounds are interleaved (every engine, concurrency and placement in round 1, then round 2),
and each measurement gets a fresh database. Samples are pooled over the rounds.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from benchmarks.common import JOB_TYPE, LATENCY_PAUSE, Latency, percentile
from benchmarks.suite import log
from relayarr.jobqueue import Job, JobQueue, open_storage

WAKE = "wake"  # the workload's name for --only
Engine = Literal["sqlite", "postgresql", "redis"]
Placement = Literal["in-process", "cross-process"]
PLACEMENTS: tuple[Placement, ...] = ("in-process", "cross-process")
DEFAULT_CONCURRENCY = 4  # JobQueue.start's and `relayarr worker`'s default
SETTLE = 0.5  # seconds for a warmed-up worker to go idle before the first sample
GOAL_P50_MS = 2.0
GOAL_P99_MS = 10.0
START_TIMEOUT = 30.0  # seconds for one job to start; past it the run is broken


@dataclass(frozen=True, slots=True)
class WakeConfig:
    """What to measure; see ``python -m benchmarks --help`` (``--wake-concurrency``)."""

    engines: tuple[Engine, ...] = ("sqlite", "postgresql", "redis")
    concurrency: tuple[int, ...] = (DEFAULT_CONCURRENCY,)
    samples: int = 150  # per engine, concurrency and placement, spread over the runs
    runs: int = 3
    tmpdir: Path | None = None


Key = tuple[Engine, int, Placement]


@dataclass(slots=True)
class WakeResults:
    samples: dict[Key, list[float]] = field(default_factory=dict)  # seconds
    elapsed: float = 0.0


# -- the two placements ---------------------------------------------------------------------


async def in_process(url: str, concurrency: int, samples: int, seed: int) -> Latency:
    """Producer and worker share one event loop, as in ``relayarr serve``."""
    storage = await open_storage(url)
    queue = JobQueue(storage)
    loop = asyncio.get_running_loop()
    started: asyncio.Future[float] = loop.create_future()

    async def noop(job: Job) -> None:
        if not started.done():
            started.set_result(time.monotonic())

    queue.register(JOB_TYPE, noop)
    rng = random.Random(seed)
    times: list[float] = []
    try:
        await queue.start(concurrency=concurrency)
        for sample in range(samples + 1):  # the first one warms up, untimed
            await asyncio.sleep(SETTLE if sample == 1 else rng.uniform(*LATENCY_PAUSE))
            started = loop.create_future()
            before = time.monotonic()
            await queue.add_job(JOB_TYPE)
            began = await asyncio.wait_for(started, START_TIMEOUT)
            if sample:
                times.append(began - before)
    finally:
        await queue.stop()
        await storage.aclose()
    return Latency(times)


def cross_process(url: str, concurrency: int, samples: int, seed: int) -> Latency:
    """The worker in a process of its own (the server suite's harness and worker)."""
    from benchmarks.server_suite import harness, relayarr_side

    return harness.idle_latency(
        relayarr_side.work,
        relayarr_side.producer(url),
        url,
        samples,
        seed,
        concurrency=concurrency,
    )


# -- running --------------------------------------------------------------------------------


@contextmanager
def _sqlite_urls(tmpdir: Path | None) -> Iterator[Callable[[], str]]:
    with tempfile.TemporaryDirectory(prefix="relayarr-wake-", dir=tmpdir) as root:
        counter = iter(range(1_000_000))

        def fresh() -> str:
            directory = Path(root) / f"{next(counter):04d}"
            directory.mkdir()
            return f"sqlite:///{directory / 'queue.db'}"

        yield fresh


def _targets(config: WakeConfig, stack: ExitStack) -> dict[Engine, Callable[[], str]]:
    fresh: dict[Engine, Callable[[], str]] = {}
    for engine in config.engines:
        if engine == "sqlite":
            fresh[engine] = stack.enter_context(_sqlite_urls(config.tmpdir))
            continue
        from benchmarks.server_suite import servers

        log(f"wake: starting a throwaway {engine} server")
        starter: Callable[[], AbstractContextManager[servers.Target]] = (
            servers.postgres if engine == "postgresql" else servers.redis
        )
        fresh[engine] = stack.enter_context(starter()).fresh
    return fresh


def run(config: WakeConfig) -> WakeResults:
    results = WakeResults()
    began = time.perf_counter()
    per_run = max(1, round(config.samples / config.runs))
    with ExitStack() as stack:
        targets = _targets(config, stack)
        for round_no in range(1, config.runs + 1):
            log(f"wake: round {round_no} of {config.runs}")
            for engine, fresh in targets.items():
                for concurrency in config.concurrency:
                    for placement in PLACEMENTS:
                        url = fresh()
                        if placement == "in-process":
                            latency = asyncio.run(in_process(url, concurrency, per_run, round_no))
                        else:
                            latency = cross_process(url, concurrency, per_run, round_no)
                        key = (engine, concurrency, placement)
                        results.samples.setdefault(key, []).extend(latency.samples)
                        log(
                            f"  {engine} concurrency {concurrency} {placement}: "
                            f"p50 {latency.p50 * 1000:.2f} ms, p99 {latency.p99 * 1000:.2f} ms"
                        )
    results.elapsed = time.perf_counter() - began
    return results


# -- reporting ------------------------------------------------------------------------------

HEADERS = (
    "engine",
    "concurrency",
    "in-process p50 / p99 (ms)",
    "cross-process p50 / p99 (ms)",
    "cross-process max (ms)",
    "goal",
)
NOTE = (
    "idle enqueue-to-start: one idle worker (default poll_interval 1 s) that ran one untimed "
    "warm-up job; one job at a time after a random 1-20 ms pause; from just before "
    "add_job to the handler's first line. In-process: producer and worker on one event "
    "loop. Cross-process: the producer in this process, the worker in its own (spawned), "
    "woken through the engine only. Goal: cross-process p50 < 2 ms and p99 < 10 ms"
)


def _pair(samples: list[float] | None) -> str:
    if not samples:
        return "—"
    return f"{percentile(samples, 50) * 1000:.2f} / {percentile(samples, 99) * 1000:.2f}"


def rows(config: WakeConfig, results: WakeResults) -> list[list[str]]:
    out: list[list[str]] = []
    for engine in config.engines:
        for concurrency in config.concurrency:
            inside = results.samples.get((engine, concurrency, "in-process"))
            across = results.samples.get((engine, concurrency, "cross-process"))
            goal = "—"
            if across:
                met = (
                    percentile(across, 50) * 1000 < GOAL_P50_MS
                    and percentile(across, 99) * 1000 < GOAL_P99_MS
                )
                goal = f"< {GOAL_P50_MS:g} / < {GOAL_P99_MS:g} {'✓' if met else '✗'}"
            worst = f"{max(across) * 1000:.1f}" if across else "—"
            out.append(
                [engine, str(concurrency), _pair(inside), _pair(across), worst, goal],
            )
    return out


def markdown(config: WakeConfig, results: WakeResults, command: str) -> str:
    from benchmarks.report import md_table

    lines = ["### Idle start: worker in this process and in another", ""]
    lines += [md_table(HEADERS, rows(config, results)), ""]
    lines += [
        f"- command: `{command}`",
        f"- samples: {config.samples} per cell, pooled over {config.runs} interleaved run(s); "
        f"wall time {results.elapsed:.0f} s",
        f"- {NOTE}",
    ]
    return "\n".join(lines) + "\n"


def print_rich(config: WakeConfig, results: WakeResults) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Idle start: worker in this process and in another", title_justify="left")
    for index, name in enumerate(HEADERS):
        table.add_column(name, justify="right" if 0 < index < len(HEADERS) - 1 else "left")
    for row in rows(config, results):
        table.add_row(*row)
    console = Console(width=max(170, Console().width))
    console.print(table)
    console.print(f"- {NOTE}", highlight=False, soft_wrap=True)
