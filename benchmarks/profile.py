"""``python -m benchmarks.profile``: one relayarr workload under cProfile, top costs printed.

For finding where the time goes: writes the raw profile to ``bench-results/<workload>.prof``
(open it with ``python -m pstats`` or snakeviz) and prints the functions with the most time
of their own and the most time including callees. Only the timed part is profiled (the
fill before a drain is not).

cProfile sees the calling thread only. At synchronous=NORMAL the SQLite engine commits
ordinary batches on the event loop's thread, so a drain or a one-per-call enqueue is all
there; big batches (``batch``) and FULL commits run on the engine's writer thread and show
up here as waiting.

>>> python -m benchmarks.profile --workload drain --concurrency 32   # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import ours
from benchmarks.common import Throughput

WORKLOADS = ("drain", "enqueue", "batch")


def profile(
    workload: str, db: Path, jobs: int, concurrency: int
) -> tuple[Throughput, pstats.Stats]:
    """Run one ``workload`` on ``db`` under a profiler; return its result and the stats."""
    profiler = cProfile.Profile()
    if workload == "drain":
        result = asyncio.run(ours.drain(db, jobs, concurrency, profiler=profiler))
    elif workload == "enqueue":
        result = asyncio.run(ours.enqueue_each(db, jobs, profiler=profiler))
    elif workload == "batch":
        result = asyncio.run(ours.enqueue_batch(db, jobs, profiler=profiler))
    else:
        raise ValueError(f"unknown workload {workload!r}; choose from {', '.join(WORKLOADS)}")
    return result, pstats.Stats(profiler, stream=sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile",
        description="Profile one relayarr workload with cProfile.",
    )
    parser.add_argument("--workload", choices=WORKLOADS, default="drain")
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32, help="for the drain")
    parser.add_argument("--top", type=int, default=25, help="functions listed per ordering")
    parser.add_argument("--output", type=Path, help="default bench-results/<workload>.prof")
    args = parser.parse_args(argv)
    output: Path = args.output or Path("bench-results") / f"{args.workload}.prof"
    with tempfile.TemporaryDirectory(prefix="relayarr-profile-") as root:
        result, stats = profile(args.workload, Path(root) / "queue.db", args.jobs, args.concurrency)
    output.parent.mkdir(parents=True, exist_ok=True)
    stats.dump_stats(output)
    print(
        f"{args.workload} of {args.jobs:,} jobs: {result.rate:,.0f} jobs/s under the profiler"
        + (f", {result.commits:,} commits" if result.commits else "")
        + f"; profile in {output}",
        file=sys.stderr,
    )
    stats.strip_dirs()
    for order in ("tottime", "cumulative"):
        print(f"\n== top {args.top} by {order} ==")
        stats.sort_stats(order).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
