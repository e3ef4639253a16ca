"""The dashboard benchmark still runs (tiny sizes, in its own process): sane figures, never
timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_and_reports_every_figure() -> None:
    # A process of its own: it drives Playwright's synchronous API, as the browser tests do.
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.dashboard", "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["history_jobs"] == 300
    assert [f["page"] for f in result["first_paint_idle"]] == ["/", "/history"]
    for figures in [*result["first_paint_idle"], result["first_paint_under_events"]]:
        assert figures["fcp_median_ms"] > 0
        assert figures["fcp_max_ms"] >= figures["fcp_median_ms"]
    events = result["events"]
    assert events["sent_per_s"] > 0
    assert events["applied_per_s"] > 0  # the page received and applied the stream
    assert events["frames_per_s"] > 0
    assert events["dom_rows"] <= 2 * 100 + 20  # lists stay bounded
