"""benchmarks.pipeline at a tiny size, with the session's Kodi: it runs and its figures are
sane. Never a timed test: no figure is compared with a goal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# benchmarks/ is a top-level package beside src/, not installed: make it importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import pipeline  # noqa: E402

from kodi import kodi_server  # noqa: E402

pytestmark = pytest.mark.slow


def test_the_pipeline_benchmark_runs_and_reports_sane_figures(tmp_path: Path) -> None:
    figures = pipeline.run(webhooks=3, pack=5, kodi_movies=1, tmp=tmp_path, kodi=kodi_server())
    assert len(figures.scan_ms) == 3
    assert all(0 < ms < 60_000 for ms in figures.scan_ms)
    assert figures.scan_p50_ms <= figures.scan_p99_ms
    assert figures.pack_webhooks == 5
    assert figures.pack_scans >= 1
    assert figures.pack_notifies >= 1
    assert figures.pack_done_seconds > 0
    (kodi,) = figures.kodi_seconds
    assert 0 < kodi < 600
    text = pipeline.report(figures, "python -m benchmarks.pipeline (smoke)")
    assert "| webhook to scan done, 3 movies | p50 **" in text
    assert "| season pack, 5 webhooks in " in text
    assert "| webhook to verified in Kodi, 1 movies | median **" in text
    assert "`python -m benchmarks.pipeline (smoke)`" in text


def test_the_options_default_and_refuse_nonsense(capsys: pytest.CaptureFixture[str]) -> None:
    quick = pipeline.parse_args(["--quick"])
    assert (quick.webhooks, quick.pack, quick.kodi_movies) == (10, 50, 3)
    full = pipeline.parse_args(["--kodi-movies", "0"])
    assert (full.webhooks, full.kodi_movies) == (100, 0)
    with pytest.raises(SystemExit):
        pipeline.parse_args(["--webhooks", "0"])
    assert "--webhooks must be positive" in capsys.readouterr().err
