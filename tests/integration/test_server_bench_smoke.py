"""The server benchmarks still run: every workload on every system, tiny sizes, sane numbers.

Never timings: this only checks that relayarr and each peer (procrastinate on PostgreSQL;
rq, dramatiq and arq on Redis) go through enqueue, drain (1 and 2 worker processes, every
setting) and latency on throwaway servers, that each system's own records confirm every
job finished (a lost or doubled job fails the run), and that the tables render.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest

# benchmarks/ is a top-level package beside src/, not installed: make it importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.server_suite import report  # noqa: E402
from benchmarks.server_suite.suite import (  # noqa: E402
    PROCESSES,
    ServerConfig,
    ServerRunner,
    drain_key,
)
from benchmarks.server_suite.system import Engine  # noqa: E402

pytestmark = pytest.mark.slow

TINY = ServerConfig(jobs=40, slow_jobs=12, runs=1, latency_samples=2, ceiling_ops=20)
EXPECTED: dict[Engine, list[str]] = {
    "postgresql": ["relayarr", "procrastinate"],
    "redis": ["relayarr", "rq", "dramatiq", "arq"],
}


# dramatiq's RedisBroker passes redis-py 8 an argument it deprecates (retry_on_timeout).
@pytest.mark.filterwarnings("ignore:Call to '__init__' function with deprecated usage")
def test_every_system_runs_every_workload_on_both_servers() -> None:
    results = ServerRunner(TINY).run()

    for engine, names in EXPECTED.items():
        systems = results.systems[engine]
        assert [system.name for system in systems] == names
        (ceiling,) = results.runs(engine, "ceiling", "raw")
        assert ceiling.jobs == TINY.ceiling_ops
        for system in systems:
            jobs = TINY.jobs_for(system)
            keys = ["enqueue"] + [
                drain_key(processes, concurrency)
                for processes in PROCESSES
                for concurrency in system.concurrency
            ]
            for key in keys:
                (result,) = results.runs(engine, key, system.name)
                assert result.jobs == jobs
                assert 0 < result.seconds < 300
                assert math.isfinite(result.rate)
            samples = results.latencies[(engine, system.name)]
            assert len(samples) == TINY.latency_samples
            assert all(0 < sample < 30 for sample in samples)

        built = report.build_engine(TINY, results, engine)
        text = report.markdown([built], report.machine(TINY, results, ["--quick"], ("0", "0")))
        header = text.splitlines()[2]
        for name in names:
            assert name in header
        assert "enqueue, one job per call" in text
        assert "drain, no-op jobs, 2 worker processes" in text
        assert not re.search(r"\b(nan|inf)\b", text)
