"""The library benchmark still runs end to end on a tiny library. Never timings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# benchmarks/ is a top-level package beside src/, not installed: make it importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import library  # noqa: E402


def test_the_library_benchmark_runs_and_checks_its_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the memory probe runs `python -m benchmarks.library`
    output = tmp_path / "library.md"
    status = library.main(
        [
            "--movies",
            "40",
            "--series",
            "8",
            "--episodes",
            "60",
            "--dir",
            str(tmp_path),
            "--output",
            str(output),
        ]
    )
    assert status == 0
    table = output.read_text()
    assert "| reconcile pass, nothing changed (48 folders) |" in table
    assert "0 changes" in table
    assert "1 change found" in table
    assert "scan_movie" in table
    assert "library" in capsys.readouterr().out.lower()
    assert [path.name for path in tmp_path.iterdir()] == ["library.md"]  # generated, removed
