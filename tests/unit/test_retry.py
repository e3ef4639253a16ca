"""RetryPolicy: exponential backoff with equal jitter, capped."""

from __future__ import annotations

import random

import pytest

from relayarr.jobqueue.retry import RetryPolicy


@pytest.mark.parametrize(
    ("attempts", "ceiling"), [(0, 2.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (10_000, 60.0)]
)
def test_the_delay_is_between_half_and_all_of_a_doubling_capped_ceiling(
    attempts: int, ceiling: float
) -> None:
    policy = RetryPolicy(base=2.0, cap=60.0)
    rng = random.Random(attempts)
    delays = [policy.delay(attempts, rng) for _ in range(200)]
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 100, "jitter spreads jobs that failed together"


def test_no_backoff_retries_at_once() -> None:
    assert RetryPolicy(base=0.0, cap=60.0).delay(3) == 0.0
