"""benchmarks.webhooks at a tiny size: it runs, its figures are sane, and every 202 it got
is stored exactly once. Never a timed test: no figure is compared with a goal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# benchmarks/ is a top-level package beside src/, not installed: make it importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import webhooks  # noqa: E402
from benchmarks.wrk import wrk_path  # noqa: E402

pytestmark = pytest.mark.slow


def test_the_webhook_load_test_runs_and_matches_every_202() -> None:
    outcome = webhooks.run(seconds=0.5, ramp=(400,), extra=())
    assert outcome.matched, outcome.problems
    assert [phase.offered for phase in outcome.phases] == [200, 1000, 400]
    for phase in outcome.phases:
        assert phase.answered_202 == phase.sent > 0
        assert 0 < phase.p50_ms <= phase.p99_ms <= phase.max_ms
    text = webhooks.report(outcome, "(smoke)")
    assert "every 202 matched by exactly one stored job: yes" in text


@pytest.mark.skipif(wrk_path() is None, reason="wrk is not installed")
def test_the_highest_rate_with_wrk_matches_every_202() -> None:
    outcome = webhooks.run(seconds=1.0, ramp=(), extra=(), wrk=wrk_path())
    assert outcome.matched, outcome.problems
    assert outcome.generator == "wrk"
    top = outcome.phases[-1]
    assert top.offered == 0
    assert top.answered_202 == top.sent > 0
    assert outcome.sustained == top.achieved
    assert "max (wrk, 64 conn.)" in webhooks.report(outcome, "(smoke)")
