"""``python -m benchmarks.profile``: one relayarr drain under cProfile, top costs printed.

For finding where the drain's time goes: writes the raw profile to
``bench-results/drain.prof`` (open with ``python -m pstats`` or snakeviz) and prints the
functions with the most time of their own and the most time including callees. With the
SQLite engine at synchronous=NORMAL every commit runs on the event loop's thread, so the
profile of the main thread is the whole story.
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

DEFAULT_OUTPUT = Path("bench-results/drain.prof")


def profile_drain(db: Path, jobs: int, concurrency: int, output: Path) -> pstats.Stats:
    """Drain ``jobs`` no-op jobs at ``concurrency``, profiling only the timed part."""
    profiler = cProfile.Profile()
    result = asyncio.run(ours.drain(db, jobs, concurrency, profiler=profiler))
    output.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(output)
    print(
        f"drain of {jobs:,} jobs at concurrency {concurrency}: {result.rate:,.0f} jobs/s "
        f"under the profiler, {result.commits or 0:,} commits",
        file=sys.stderr,
    )
    return pstats.Stats(profiler, stream=sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--top", type=int, default=25, help="functions to list per ordering")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relayarr-profile-") as root:
        stats = profile_drain(Path(root) / "queue.db", args.jobs, args.concurrency, args.output)
    stats.strip_dirs()
    for order in ("tottime", "cumulative"):
        print(f"\n== top {args.top} by {order} ==")
        stats.sort_stats(order).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
