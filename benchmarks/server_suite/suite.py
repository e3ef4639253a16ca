"""Running the server workloads: one throwaway server per engine, interleaved rounds.

Round 1 runs every workload on every system of an engine, then round 2, and so on (the
servers stay up between rounds), so that a slow minute of a shared machine lands on all
columns alike. Every measurement gets a fresh namespace: a new PostgreSQL database, or an
emptied Redis. Throughputs are medians over the rounds; latency samples are pooled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field

from benchmarks.common import Throughput
from benchmarks.server_suite import ceiling, harness, relayarr_side, servers
from benchmarks.server_suite.system import Engine, System
from benchmarks.suite import log

ENGINES: tuple[Engine, ...] = ("postgresql", "redis")
WORKLOADS = ("enqueue", "drain", "latency", "ceiling")
PROCESSES = (1, 2)  # worker processes in the drain


def peers(engine: Engine) -> list[System]:
    """The peers on ``engine``, imported only when their engine runs."""
    if engine == "postgresql":
        from benchmarks.server_suite import procrastinate_peer

        return [procrastinate_peer.SYSTEM]
    from benchmarks.server_suite import arq_peer, dramatiq_peer, rq_peer

    return [rq_peer.SYSTEM, dramatiq_peer.SYSTEM, arq_peer.SYSTEM]


def systems(engine: Engine, with_peers: bool = True) -> list[System]:
    return [relayarr_side.system(engine), *(peers(engine) if with_peers else [])]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """What to run on the servers and how big; see ``python -m benchmarks --help``."""

    engines: tuple[Engine, ...] = ENGINES
    jobs: int = 20_000
    slow_jobs: int = 2_000  # for peers that drain a few hundred jobs/s or less
    runs: int = 3
    latency_samples: int = 150
    ceiling_ops: int = 5_000
    peers: bool = True
    workloads: tuple[str, ...] = WORKLOADS

    @classmethod
    def quick(cls) -> ServerConfig:
        """A small run for a sanity check."""
        return cls(jobs=2_000, slow_jobs=500, runs=1, latency_samples=20, ceiling_ops=1_000)

    def jobs_for(self, system: System) -> int:
        return self.slow_jobs if system.slow else self.jobs


@dataclass(slots=True)
class ServerResults:
    """Raw per-run measurements, keyed by (engine, measurement, system)."""

    throughputs: dict[tuple[Engine, str, str], list[Throughput]] = field(default_factory=dict)
    latencies: dict[tuple[Engine, str], list[float]] = field(default_factory=dict)
    systems: dict[Engine, list[System]] = field(default_factory=dict)
    elapsed: float = 0.0

    def add(self, engine: Engine, key: str, system: str, result: Throughput) -> None:
        self.throughputs.setdefault((engine, key, system), []).append(result)

    def runs(self, engine: Engine, key: str, system: str) -> list[Throughput]:
        return self.throughputs.get((engine, key, system), [])


def drain_key(processes: int, concurrency: int) -> str:
    return f"drain-{processes}p@{concurrency}"


def _targets(
    engines: tuple[Engine, ...], stack: ExitStack
) -> Iterator[tuple[Engine, servers.Target]]:
    starters: dict[Engine, Callable[[], AbstractContextManager[servers.Target]]] = {
        "postgresql": servers.postgres,
        "redis": servers.redis,
    }
    for engine in engines:
        log(f"starting a throwaway {engine} server")
        yield engine, stack.enter_context(starters[engine]())


class ServerRunner:
    """Runs the configured workloads on throwaway servers into a :class:`ServerResults`."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.results = ServerResults()

    def run(self) -> ServerResults:
        config = self.config
        started = time.perf_counter()
        with ExitStack() as stack:
            targets = list(_targets(config.engines, stack))
            for engine, _ in targets:
                self.results.systems[engine] = systems(engine, config.peers)
            for round_no in range(1, config.runs + 1):
                for engine, target in targets:
                    log(f"{engine}: round {round_no} of {config.runs}")
                    self._round(engine, target, round_no)
        self.results.elapsed = time.perf_counter() - started
        return self.results

    def _record(self, engine: Engine, key: str, system: str, result: Throughput) -> None:
        self.results.add(engine, key, system, result)
        timing = f"{result.jobs:,} in {result.seconds:.2f} s"
        log(f"  {system} {key}: {result.rate:,.0f} jobs/s ({timing})")

    def _round(self, engine: Engine, target: servers.Target, round_no: int) -> None:
        config = self.config
        workloads = config.workloads
        if "ceiling" in workloads:
            self._record(
                engine,
                "ceiling",
                "raw",
                ceiling.measure(engine, target.fresh(), config.ceiling_ops),
            )
        for system in self.results.systems[engine]:
            jobs = config.jobs_for(system)
            if "enqueue" in workloads:
                url = target.fresh()
                system.prepare(url)
                seconds = system.enqueue_each(url, jobs)
                self._record(engine, "enqueue", system.name, Throughput(jobs, seconds))
            if "drain" in workloads:
                for processes in PROCESSES:
                    for concurrency in system.concurrency:
                        url = target.fresh()
                        system.prepare(url)
                        system.fill(url, jobs)
                        result = harness.drain(system.worker, url, jobs, processes, concurrency)
                        system.check_drained(url, jobs)
                        self._record(engine, drain_key(processes, concurrency), system.name, result)
        if "latency" in workloads:
            samples = max(1, round(config.latency_samples / config.runs))
            for system in self.results.systems[engine]:
                url = target.fresh()
                system.prepare(url)
                latency = harness.idle_latency(
                    system.worker, system.producer(url), url, samples, seed=round_no
                )
                self.results.latencies.setdefault((engine, system.name), []).extend(latency.samples)
                log(
                    f"  {system.name} idle latency: p50 {latency.p50 * 1000:.2f} ms, "
                    f"p99 {latency.p99 * 1000:.2f} ms ({len(latency.samples)} samples)"
                )
