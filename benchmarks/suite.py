"""Running the workloads: rounds, fresh files, medians, and what goes into the report.

Runs are interleaved: round 1 runs every workload on every system, then round 2, and so
on, so a slow minute of a shared machine lands on all columns alike instead of on one.
Throughputs are medians over the rounds; latency samples are pooled over the rounds.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec

from benchmarks import ceiling, history, huey_peer, ours
from benchmarks.common import Latency, Throughput, median

P = ParamSpec("P")

RELAYARR = "relayarr"
HUEY_NORMAL = "huey-normal"
HUEY_FULL = "huey-full"
SQLITE3 = "sqlite3"  # the raw-sqlite3 yardstick, not a competitor
PEERS: dict[str, huey_peer.Durability] = {HUEY_NORMAL: "normal", HUEY_FULL: "full"}

WORKLOADS = ("enqueue", "batch", "drain", "latency", "history", "ceiling")
FALLBACK_CONCURRENCY = 32  # for the history workload when the drain did not run


@dataclass(frozen=True, slots=True)
class Config:
    """What to run and how big; see ``python -m benchmarks --help``."""

    jobs: int = 20_000
    batch_jobs: int = 100_000
    runs: int = 3
    history_runs: int = 5  # the drain with and without history is a ratio: more samples
    concurrency: tuple[int, ...] = (1, 8, 32, 128)
    huey_workers: tuple[int, ...] = (1, 2)
    latency_samples: int = 500
    history_rows: int = 1_000_000
    pair_jobs: int = 5_000
    peers: bool = True
    workloads: tuple[str, ...] = WORKLOADS
    tmpdir: Path | None = None

    @classmethod
    def quick(cls) -> Config:
        """A small run for a sanity check: a minute, not minutes."""
        return cls(
            jobs=2_000,
            batch_jobs=10_000,
            runs=1,
            history_runs=1,
            latency_samples=40,
            history_rows=50_000,
            pair_jobs=500,
        )


@dataclass(slots=True)
class Results:
    """Raw per-run measurements, keyed by (measurement, system)."""

    throughputs: dict[tuple[str, str], list[Throughput]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # system -> samples
    history_concurrency: int | None = None
    setup_seconds: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    def add(self, key: str, system: str, result: Throughput) -> None:
        self.throughputs.setdefault((key, system), []).append(result)

    def runs(self, key: str, system: str) -> list[Throughput]:
        return self.throughputs.get((key, system), [])


def drain_key(concurrency: int) -> str:
    return f"drain@{concurrency}"


def huey_drain_key(workers: int) -> str:
    return f"drain-workers@{workers}"


def history_key(what: str, kind: str) -> str:
    """``what`` is drain or pairs; ``kind`` is empty or full (history)."""
    return f"history-{what}-{kind}"


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the report."""
    print(message, file=sys.stderr, flush=True)


def _show(label: str, result: Throughput) -> str:
    extra = ""
    if result.max_stall is not None:
        extra += f", max stall {result.max_stall * 1000:.1f} ms"
    if result.max_busy is not None:
        extra += f" ({result.max_busy * 1000:.1f} ms on CPU)"
    if result.commits:
        extra += f", {result.jobs / result.commits:.1f} jobs/commit"
    return f"  {label}: {result.rate:,.0f} jobs/s ({result.seconds:.2f} s{extra})"


class Runner:
    """Runs the configured workloads into a :class:`Results`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.results = Results()
        self._root: Path | None = None
        self._counter = 0

    @contextmanager
    def _workspace(self) -> Iterator[None]:
        with tempfile.TemporaryDirectory(prefix="relayarr-bench-", dir=self.config.tmpdir) as root:
            self._root = Path(root)
            try:
                yield
            finally:
                self._root = None

    def fresh(self, name: str) -> Path:
        """A path for a new database file in a directory of its own."""
        assert self._root is not None
        self._counter += 1
        directory = self._root / f"{self._counter:04d}-{name}"
        directory.mkdir()
        return directory / f"{name}.db"

    @staticmethod
    def discard(*dbs: Path) -> None:
        """Delete used databases (with their directories) so the disk use stays small."""
        for db in dbs:
            shutil.rmtree(db.parent, ignore_errors=True)

    def _measure(
        self,
        key: str,
        system: str,
        fn: Callable[Concatenate[Path, P], Coroutine[Any, Any, Throughput] | Throughput],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Throughput:
        """Run ``fn(fresh_db, ...)`` (in a new event loop when it is async) and record it."""
        db = self.fresh(f"{system}-{key.replace('@', '-')}")
        outcome = fn(db, *args, **kwargs)
        result = outcome if isinstance(outcome, Throughput) else asyncio.run(outcome)
        self.discard(db)
        self.results.add(key, system, result)
        log(_show(f"{system} {key}", result))
        return result

    def run(self) -> Results:
        config = self.config
        started = time.perf_counter()
        with self._workspace():
            for round_no in range(1, config.runs + 1):
                log(f"round {round_no} of {config.runs}")
                self._round(round_no)
            if "history" in config.workloads:
                # After the main rounds: the drain's best concurrency is settled, and the
                # big file's write-back cannot disturb the other workloads.
                template = self._build_history()
                concurrency = self.best_concurrency()
                self.results.history_concurrency = concurrency
                for round_no in range(1, config.history_runs + 1):
                    log(f"history round {round_no} of {config.history_runs}")
                    self._history(round_no, template, concurrency)
        self.results.elapsed = time.perf_counter() - started
        return self.results

    def _build_history(self) -> Path:
        rows = self.config.history_rows
        log(f"building a relayarr database with {rows:,} history rows")
        template = self.fresh("history-template")
        began = time.perf_counter()
        history.build_template(template, rows)
        self.results.setup_seconds["history"] = time.perf_counter() - began
        log(f"  done in {self.results.setup_seconds['history']:.1f} s")
        return template

    def _round(self, round_no: int) -> None:
        config = self.config
        workloads = config.workloads
        jobs = config.jobs
        if "ceiling" in workloads:
            self._measure("commits", SQLITE3, ceiling.single_row_commits, jobs)
            self._measure("claim-delete", SQLITE3, ceiling.claim_delete_pairs, jobs)
        if "enqueue" in workloads:
            self._measure("enqueue", RELAYARR, ours.enqueue_each, jobs)
            for system, durability in self._peers():
                self._measure("enqueue", system, huey_peer.enqueue_each, durability, jobs)
        if "batch" in workloads:
            self._measure("batch", RELAYARR, ours.enqueue_batch, jobs)
            self._measure("batch-big", RELAYARR, ours.enqueue_batch, config.batch_jobs)
        if "drain" in workloads:
            for concurrency in config.concurrency:
                self._measure(drain_key(concurrency), RELAYARR, ours.drain, jobs, concurrency)
            for system, durability in self._peers():
                for workers in config.huey_workers:
                    key = huey_drain_key(workers)
                    self._measure(key, system, huey_peer.drain, durability, jobs, workers)
        if "latency" in workloads:
            self._latency(round_no)

    def _peers(self) -> list[tuple[str, huey_peer.Durability]]:
        return list(PEERS.items()) if self.config.peers else []

    def _latency(self, round_no: int) -> None:
        config = self.config
        # The samples are spread over the rounds and pooled: percentiles of them all.
        samples = max(1, round(config.latency_samples / config.runs))
        dbs = {system: self.fresh(f"{system}-latency") for system in (RELAYARR, *PEERS)}
        measured: dict[str, Latency] = {
            RELAYARR: asyncio.run(ours.idle_latency(dbs[RELAYARR], samples, seed=round_no))
        }
        for system, durability in self._peers():
            measured[system] = huey_peer.idle_latency(
                dbs[system], durability, samples, seed=round_no
            )
        self.discard(*dbs.values())
        for system, latency in measured.items():
            self.results.latencies.setdefault(system, []).extend(latency.samples)
            log(
                f"  {system} idle latency: p50 {latency.p50 * 1000:.2f} ms, "
                f"p99 {latency.p99 * 1000:.2f} ms ({len(latency.samples)} samples)"
            )

    def _history(self, round_no: int, template: Path, concurrency: int) -> None:
        jobs = self.config.jobs
        pairs = self.config.pair_jobs

        def with_history(name: str) -> Path:
            db = self.fresh(name)
            history.copy_database(template, db)
            return db

        # Empty and full take turns, and which goes first alternates by round, so drift
        # on a shared machine and any first-run effect hit both alike.
        order = [("empty", self.fresh), ("full", with_history)]
        for key, prepare in order if round_no % 2 else order[::-1]:
            db = prepare(f"history-{key}")
            result = asyncio.run(ours.drain(db, jobs, concurrency))
            self.discard(db)
            self.results.add(history_key("drain", key), RELAYARR, result)
            log(_show(f"relayarr drain@{concurrency}, {key} history", result))
        dbs = [self.fresh("pairs-empty"), with_history("pairs-full")]
        measured = asyncio.run(ours.claim_pairs(dbs, pairs))
        self.discard(*dbs)
        for key, result in zip(("empty", "full"), measured, strict=True):
            self.results.add(history_key("pairs", key), RELAYARR, result)
            log(_show(f"relayarr claim+complete pairs, {key} history", result))

    def best_concurrency(self) -> int:
        """The drain concurrency with the best median (a fixed default when none ran)."""
        best = FALLBACK_CONCURRENCY
        best_rate = -1.0
        for concurrency in self.config.concurrency:
            runs = self.results.runs(drain_key(concurrency), RELAYARR)
            if runs:
                rate = median([run.rate for run in runs])
                if rate > best_rate:
                    best, best_rate = concurrency, rate
        return best
