"""PostgreSQL claims with and without waiting for the WAL flush, compared sample by sample.

    python -m benchmarks.pg_claim_commit [--samples 300] [--concurrency 1,4,8]

The engine's claim commits without waiting for its WAL flush (``set_config
('synchronous_commit', 'off', true)`` in the statement; docs/pgclaim.md). On a shared
machine the fsync a commit waits for varies several-fold from one minute to the next, so
whole runs taken one after another (``python -m benchmarks --only wake``, this branch then
the previous code) differ more by when they ran than by what they ran. Here every sample
draws its variant at random, and both meet the same disk:

* **idle start across processes**, measured as the wake benchmark does (a worker in a
  process of its own, idle; this process adds one job after a random 1-20 ms pause; from
  just before ``add_job`` to the handler's first line), the worker claiming that job with
  the engine's statement or with the same statement waiting for the flush (the
  ``set_config`` condition taken out);
* **the claim's round trip**, as the worker's dispatcher saw it.

Prints a Markdown table, with how much lower the engine's medians are (a bootstrap 95%
interval beside each); nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import time
from collections.abc import Sequence
from multiprocessing.context import SpawnProcess
from multiprocessing.sharedctypes import Synchronized

from benchmarks.common import JOB_TYPE, LATENCY_PAUSE, percentile
from benchmarks.report import md_table
from benchmarks.server_suite import harness, relayarr_side, servers
from benchmarks.suite import log
from relayarr.jobqueue import Job, JobQueue, SystemClock
from relayarr.jobqueue.storage import postgres as engine

NO_FLUSH_WAIT = " WHERE set_config('synchronous_commit', 'off', true) = 'off'"
VARIANTS = ("no flush wait (engine)", "waits for the flush")
RESULTS_TIMEOUT = 30.0  # seconds for the worker to hand its claim timings back
BOOTSTRAP = 2000  # resamples for the interval of a difference of medians


def claim_statements() -> tuple[str, str]:
    """The engine's claim statement, and the same statement waiting for its flush."""
    claim = engine.Q["claim"]
    if NO_FLUSH_WAIT not in claim:
        raise harness.BenchError("the claim statement has no set_config line to take out")
    return claim, claim.replace(NO_FLUSH_WAIT, "")


class SwitchingStorage(engine.PostgresStorage):
    """The engine, claiming with the statement of the variant the current sample drew."""

    variant: Synchronized[int]
    statements: tuple[str, str]  # by variant
    timings: list[tuple[int, float]]

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        variant = self.variant.value
        engine.Q["claim"] = self.statements[variant]
        began = time.monotonic()
        jobs = await super().claim(owner, types, limit, lease_seconds)
        if jobs:  # an empty claim writes nothing: no commit to wait for either way
            self.timings.append((variant, time.monotonic() - began))
        return jobs


def work(
    url: str,
    concurrency: int,
    link: harness.Link,
    variant: Synchronized[int],
    timings: multiprocessing.Queue[list[tuple[int, float]]],
) -> None:
    """The worker process (module level, for spawn)."""
    try:
        asyncio.run(_work(url, concurrency, link, variant, timings))
    except BaseException as exc:
        link.failed(exc)
        raise


async def _work(
    url: str,
    concurrency: int,
    link: harness.Link,
    variant: Synchronized[int],
    timings: multiprocessing.Queue[list[tuple[int, float]]],
) -> None:
    storage = await SwitchingStorage.open(url, clock=SystemClock())
    assert isinstance(storage, SwitchingStorage)
    storage.variant = variant
    storage.statements = claim_statements()
    storage.timings = []
    try:
        jobs = JobQueue(storage)

        async def noop(job: Job) -> None:
            link.job_ran()

        jobs.register(JOB_TYPE, noop)
        link.ready()
        await asyncio.to_thread(link.go.wait)
        await jobs.start(concurrency=concurrency)
        await asyncio.to_thread(link.stop.wait)
        await jobs.stop()
        timings.put(storage.timings)
        link.stopped()
    finally:
        await storage.aclose()


Samples = dict[int, list[float]]  # variant -> seconds


def measure(url: str, concurrency: int, samples: int, seed: int) -> tuple[Samples, Samples]:
    """(idle start, claim round trip) per variant, the variants drawn in random order."""
    relayarr_side.prepare(url)
    link = harness.Link.create()
    variant: Synchronized[int] = harness.CONTEXT.Value("i", 0)
    timings: multiprocessing.Queue[list[tuple[int, float]]] = harness.CONTEXT.Queue()
    process: SpawnProcess = harness.CONTEXT.Process(
        target=work, args=(url, concurrency, link, variant, timings), daemon=True
    )
    process.start()
    rng = random.Random(seed)
    order = [index % len(VARIANTS) for index in range(samples)]
    rng.shuffle(order)
    starts: Samples = {index: [] for index in range(len(VARIANTS))}
    claims: Samples = {index: [] for index in range(len(VARIANTS))}
    try:
        link.wait_for("ready", [process], harness.START_TIMEOUT)
        link.go.set()
        with relayarr_side.producer(url) as enqueue_one:
            before = link.count.value
            enqueue_one()  # untimed: the worker is fully up once it ran
            harness.wait_started(link, before)
            time.sleep(harness.IDLE_SETTLE)
            for drawn in order:
                variant.value = drawn
                time.sleep(rng.uniform(*LATENCY_PAUSE))
                before = link.count.value
                enqueued = enqueue_one()
                starts[drawn].append(harness.wait_started(link, before) - enqueued)
        link.stop.set()
        link.wait_for("stopped", [process], harness.RUN_TIMEOUT)
        for drawn, seconds in timings.get(timeout=RESULTS_TIMEOUT)[1:]:  # [0]: the warm-up
            claims[drawn].append(seconds)
    finally:
        harness.end_workers([process], grace=harness.EXIT_GRACE)
    return starts, claims


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.2f}" if values else "—"


def median_gain(slow: list[float], fast: list[float], seed: int) -> str:
    """How much lower ``fast``'s median is than ``slow``'s, in ms, with a bootstrap 95%
    interval: an interval that excludes 0 is a difference the noise does not explain."""
    if not slow or not fast:
        return "—"
    rng = random.Random(seed)
    gains = sorted(
        percentile(rng.choices(slow, k=len(slow)), 50)
        - percentile(rng.choices(fast, k=len(fast)), 50)
        for _ in range(BOOTSTRAP)
    )
    point = percentile(slow, 50) - percentile(fast, 50)
    low, high = percentile(gains, 2.5), percentile(gains, 97.5)
    return f"{point * 1000:.2f} [{low * 1000:.2f}, {high * 1000:.2f}]"


HEADERS = (
    "concurrency",
    "claim commit",
    "samples",
    "idle start p50 / p90 / p99 (ms)",
    "claim round trip p50 / p99 (ms)",
    "p50 gain: idle start / claim (ms, 95% CI)",
)


def rows(results: dict[int, tuple[Samples, Samples]]) -> list[list[str]]:
    out: list[list[str]] = []
    for concurrency, (starts, claims) in results.items():
        for index, name in enumerate(VARIANTS):
            start, claim = starts[index], claims[index]
            gain = "—"
            if index == 0:
                gain = (
                    f"{median_gain(starts[1], start, concurrency)} / "
                    f"{median_gain(claims[1], claim, concurrency)}"
                )
            out.append(
                [
                    str(concurrency),
                    name,
                    str(len(start)),
                    f"{_ms(start, 50)} / {_ms(start, 90)} / {_ms(start, 99)}",
                    f"{_ms(claim, 50)} / {_ms(claim, 99)}",
                    gain,
                ]
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--samples", type=int, default=300, help="per concurrency (default 300)")
    parser.add_argument(
        "--concurrency", default="1,4,8", help="worker concurrencies (default 1,4,8)"
    )
    args = parser.parse_args(argv)
    concurrencies = [int(part) for part in args.concurrency.split(",")]
    claim_statements()  # fail before starting a server if the statement changed shape
    results: dict[int, tuple[Samples, Samples]] = {}
    load_before = os.getloadavg()[0]
    with servers.postgres() as target:
        for seed, concurrency in enumerate(concurrencies, 1):
            log(f"pg_claim_commit: concurrency {concurrency}, {args.samples} samples")
            results[concurrency] = measure(target.fresh(), concurrency, args.samples, seed)
    print(md_table(HEADERS, rows(results)))
    print(
        f"\nload average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
        "variants drawn at random per sample"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
