"""benchmarks/pg_claim_commit.py still runs: both claim statements, tiny sizes, no timings.

It derives the statement that waits for the flush from the engine's own claim; a change to
that statement must not leave the benchmark comparing the engine with itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# benchmarks/ is a top-level package beside src/, not installed: make it importable.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import pg_claim_commit  # noqa: E402

from servers import postgres_database  # noqa: E402

pytestmark = pytest.mark.slow


def test_the_waiting_variant_is_the_engine_claim_without_its_setting() -> None:
    engine, waits = pg_claim_commit.claim_statements()
    assert "synchronous_commit" in engine
    assert "synchronous_commit" not in waits
    assert waits != engine


def test_every_sample_is_claimed_once_with_the_variant_it_drew() -> None:
    with postgres_database() as (server, name):
        starts, claims = pg_claim_commit.measure(server.url(name), 2, 8, seed=3)
    assert {variant: len(times) for variant, times in starts.items()} == {0: 4, 1: 4}
    assert {variant: len(times) for variant, times in claims.items()} == {0: 4, 1: 4}
    table = pg_claim_commit.rows({2: (starts, claims)})
    assert [row[1] for row in table] == list(pg_claim_commit.VARIANTS)
