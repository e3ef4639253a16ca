"""How a provider client paces itself: a token bucket, retry delays, a circuit breaker.

Each takes its time from an injected clock and sleeps through an injected function, so
tests run them with a fake clock and never wait.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from relayarr.jobqueue.breaker import (
    BreakerPolicy,
    BreakerState,
    is_claimable,
    on_failure,
    on_success,
    try_probe,
)
from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.models import BreakerPhase

Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """At most ``rate`` acquisitions per second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: float, clock: Clock, sleep: Sleep) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._stamp = clock.now()
        self._lock = asyncio.Lock()

    async def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited."""
        waited = 0.0
        async with self._lock:  # callers queue in order instead of racing for tokens
            while True:
                now = self._clock.now()
                self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                delay = (1 - self._tokens) / self._rate
                waited += delay
                await self._sleep(delay)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``retries`` more attempts after the first, on 429, 5xx and transport errors.

    A ``Retry-After`` up to ``max_retry_after`` is waited as given; a longer one ends the
    call at once (the caller is told when to come back). Without one the delay doubles
    from ``base_delay`` up to ``max_delay``, with up to 25 % random jitter.
    """

    retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        delay = min(self.max_delay, self.base_delay * 2.0 ** min(attempt, 32))
        return delay * (1 + 0.25 * rand())


class CircuitOpen(Exception):
    """The breaker refuses calls for ``retry_after`` more seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit open for {retry_after:.0f} s more")
        self.retry_after = retry_after


class ProviderBreaker:
    """One provider's circuit breaker, in this process, on the queue's pure transitions.

    After ``policy.threshold`` failed calls in a row (each already past its retries) the
    provider is not called for the cool-down; then one call probes it. Answers that prove
    the provider is up (even 401 and 404) count as successes.
    """

    def __init__(self, name: str, policy: BreakerPolicy, clock: Clock) -> None:
        self._name = name
        self._policy = policy
        self._clock = clock
        self._state: BreakerState | None = None
        self._calls = itertools.count()

    @property
    def state(self) -> BreakerState | None:
        return self._state

    def enter(self) -> str:
        """Admit one call and return its token; raise :class:`CircuitOpen` if refused."""
        token = f"{self._name}-{next(self._calls)}"
        if is_claimable(self._state):
            return token
        now = self._clock.now()
        probed = try_probe(self._state, now, self._policy, owner=token)
        if probed is not None and probed.probe_owner == token:
            self._state = probed
            return token
        current = probed or self._state
        reopen = current.reopen_at if current and current.reopen_at is not None else now
        if current is not None and current.phase is BreakerPhase.HALF_OPEN:
            reopen = max(reopen, now + 1.0)  # another call is probing right now
        raise CircuitOpen(max(0.0, reopen - now))

    def success(self) -> None:
        self._state = on_success(self._state, self._clock.now(), name=self._name)

    def failure(self) -> None:
        self._state = on_failure(self._state, self._clock.now(), self._policy, name=self._name)


__all__ = [
    "CircuitOpen",
    "ProviderBreaker",
    "RetryPolicy",
    "Sleep",
    "TokenBucket",
    "parse_retry_after",
]
