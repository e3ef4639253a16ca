"""The benchmark suite still runs: every workload, tiny sizes, sane numbers. Never timings."""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from pathlib import Path

import pytest

# benchmarks/ is a top-level package beside src/, not installed: make it importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import __main__ as cli  # noqa: E402
from benchmarks import huey_peer, report  # noqa: E402
from benchmarks.common import Throughput, percentile  # noqa: E402
from benchmarks.suite import (  # noqa: E402
    HUEY_FULL,
    HUEY_NORMAL,
    RELAYARR,
    SQLITE3,
    Config,
    Runner,
    drain_key,
    history_key,
    huey_drain_key,
)

TINY = Config(
    jobs=40,
    batch_jobs=120,
    runs=1,
    concurrency=(1, 4),
    huey_workers=(1,),
    latency_samples=3,
    history_rows=300,
    history_runs=1,
    pair_jobs=10,
)


def _sane(result: Throughput, jobs: int) -> None:
    assert result.jobs == jobs
    assert 0 < result.seconds < 60
    assert math.isfinite(result.rate)
    assert result.rate > 0


def test_every_workload_runs_and_reports_sane_numbers(tmp_path: Path) -> None:
    config = dataclasses.replace(TINY, tmpdir=tmp_path)
    results = Runner(config).run()

    expected = {
        ("commits", SQLITE3): config.jobs,
        ("claim-delete", SQLITE3): config.jobs,
        ("enqueue", RELAYARR): config.jobs,
        ("enqueue", HUEY_NORMAL): config.jobs,
        ("enqueue", HUEY_FULL): config.jobs,
        ("batch", RELAYARR): config.jobs,
        ("batch-big", RELAYARR): config.batch_jobs,
        (drain_key(1), RELAYARR): config.jobs,
        (drain_key(4), RELAYARR): config.jobs,
        (huey_drain_key(1), HUEY_NORMAL): config.jobs,
        (huey_drain_key(1), HUEY_FULL): config.jobs,
        (history_key("drain", "empty"), RELAYARR): config.jobs,
        (history_key("drain", "full"), RELAYARR): config.jobs,
        (history_key("pairs", "empty"), RELAYARR): config.pair_jobs,
        (history_key("pairs", "full"), RELAYARR): config.pair_jobs,
    }
    assert set(results.throughputs) == set(expected)
    for (key, system), jobs in expected.items():
        (result,) = results.runs(key, system)
        _sane(result, jobs)
    for concurrency in config.concurrency:
        (drained,) = results.runs(drain_key(concurrency), RELAYARR)
        assert drained.max_stall is not None
        assert 0 <= drained.max_stall < 60
        assert drained.max_busy is not None
        assert 0 <= drained.max_busy < 60
        assert drained.commits is not None
        assert drained.commits >= 1
    for system in (RELAYARR, HUEY_NORMAL, HUEY_FULL):
        samples = results.latencies[system]
        assert len(samples) == config.latency_samples
        assert all(0 < sample < 30 for sample in samples)
    assert results.history_concurrency in config.concurrency


def test_cli_writes_the_markdown_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "latest.md"
    argv = [
        "--quick",
        "--jobs=30",
        "--batch-jobs=60",
        "--concurrency=2",
        "--latency-samples=2",
        "--history-rows=100",
        "--pair-jobs=5",
        "--no-huey",  # the peer ran in the test above
        "--engines=sqlite",  # the server suite has its own test (integration/)
        f"--tmpdir={tmp_path}",
        f"--output={output}",
    ]
    assert cli.main(argv) == 0

    text = output.read_text(encoding="utf-8")
    assert "| workload | unit | relayarr | huey NORMAL | huey FULL |" in text
    for row in ("enqueue, one add_job per call", "idle enqueue-to-start, p50", "slowdown"):
        assert row in text
    assert "-m benchmarks --quick" in text
    # The wake workload: idle start with the worker in this process and in another.
    assert "| engine | concurrency | in-process p50 / p99 (ms) |" in text
    assert "| sqlite | 4 |" in text
    assert not re.search(r"\b(nan|inf)\b", text)
    assert "relayarr vs huey" in capsys.readouterr().out


@pytest.mark.parametrize(("durability", "level"), [("normal", 1), ("full", 2)])
def test_huey_peer_runs_at_the_durability_it_claims(
    tmp_path: Path, durability: huey_peer.Durability, level: int
) -> None:
    huey, _ = huey_peer.make_huey(tmp_path / "huey.db", durability, lambda: None)
    try:
        assert huey_peer.synchronous_level(huey) == level
        journal = huey.storage.conn.execute("pragma journal_mode").fetchone()[0]
        assert journal == "wal"
    finally:
        huey.storage.close()


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


def test_goals_read_the_right_way_round() -> None:
    assert report.Goal(25_000).met(30_000)
    assert not report.Goal(25_000).met(25_000)
    assert report.Goal(100_000, inclusive=True).met(100_000)
    assert report.Goal(2.0, below=True).met(0.5)
    assert not report.Goal(10.0, below=True).met(12.0)


def test_history_slowdown_compares_each_round_with_itself() -> None:
    # The machine was twice as slow in round 2; each round's full run took 5% longer.
    empty = [Throughput(100, 1.0), Throughput(100, 2.0), Throughput(100, 1.0)]
    full = [Throughput(100, 1.05), Throughput(100, 2.1), Throughput(100, 1.05)]
    slowdown = report.paired_slowdown(empty, full)
    assert slowdown == pytest.approx(5.0)
