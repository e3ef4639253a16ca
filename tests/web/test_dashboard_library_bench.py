"""The library page benchmark still runs (tiny sizes) and reports every figure; never timings."""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/ is a top-level package beside src/, not installed: make it importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.dashboard_library import run  # noqa: E402


async def test_the_benchmark_runs_and_reports_every_figure() -> None:
    result = await run(movies=300, rounds=1)
    assert (result["movies"], result["series"]) == (300, 60)
    pages = result["pages"]
    assert isinstance(pages, list)
    assert [figure["page"] for figure in pages] == [
        "/library",
        "/library (page 11)",
        "/library?search=00042",
        "/library/movie/150",
    ]
    for figure in pages:
        assert figure["max_ms"] >= figure["median_ms"] > 0
