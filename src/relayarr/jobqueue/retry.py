"""How long a failed job waits before its next attempt."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff from ``base`` seconds, capped at ``cap``, with equal jitter."""

    base: float = 1.0
    cap: float = 3600.0

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempts + 1``.

        ``base * 2**(attempts-1)`` capped at ``cap``; half of it is fixed and half random,
        so retries of jobs that failed together spread out but never come back too soon.
        """
        ceiling = min(self.cap, self.base * 2.0 ** min(max(attempts - 1, 0), 64))
        half = ceiling / 2
        return half + (rng or random).uniform(0.0, half)


__all__ = ["RetryPolicy"]
