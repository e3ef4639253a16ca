"""Circuit-breaker policy and its pure state transitions.

A breaker guards one name (a job type, or an external target such as a player). It is
shared by every worker of a deployment: the state lives in storage and each change is a
pure function applied atomically by :meth:`BreakerStore.update_breaker`, so two processes can
never both win the same transition.

::

    CLOSED --threshold consecutive failures--> OPEN --cool-down over, one worker--> HALF_OPEN
      ^                                          ^                                   |
      |                                          +-------- probe fails (longer) -----+
      +------------------------------------- probe succeeds -------------------------+

While a breaker is open its type is not claimed at all, so pending jobs keep their
attempts; after the cool-down exactly one worker runs one probe job. Each time a probe
fails the cool-down doubles, up to ``max_cooldown``.

Every function here takes the current state (``None`` when storage has none yet) and
returns the new one; none of them touches storage, clocks or the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from relayarr.jobqueue.models import BreakerPhase, BreakerState


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open.

    ``threshold`` consecutive failures open it for ``cooldown`` seconds; every further trip
    without a success in between doubles the cool-down, capped at ``max_cooldown``. A
    half-open probe that reports nothing for ``probe_timeout`` seconds (its worker died)
    may be taken over by another worker.
    """

    threshold: int = 5
    cooldown: float = 30.0
    max_cooldown: float = 600.0
    probe_timeout: float = 300.0

    def __post_init__(self) -> None:
        if type(self.threshold) is not int or self.threshold < 1:
            raise ValueError(f"breaker threshold must be an integer >= 1, got {self.threshold!r}")
        for name in ("cooldown", "max_cooldown", "probe_timeout"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"breaker {name} must be a finite number >= 0, got {value!r}")
        if self.max_cooldown < self.cooldown:
            raise ValueError("breaker max_cooldown must be >= cooldown")

    def cooldown_for(self, trips: int) -> float:
        """The cool-down after ``trips`` earlier consecutive trips: doubling, capped."""
        # min() on the exponent first: 2.0**1024 overflows a float.
        return min(self.max_cooldown, self.cooldown * 2.0 ** min(trips, 64))


def is_clean(state: BreakerState | None) -> bool:
    """True when a success would change nothing: closed with no failures counted."""
    return state is None or (state.phase is BreakerPhase.CLOSED and state.failures == 0)


def on_failure(
    state: BreakerState | None, now: float, policy: BreakerPolicy, *, name: str
) -> BreakerState:
    """Count one failure: open at the threshold, or re-open (longer) when a probe failed.

    A failure reported while already open (a job that started before the trip) is counted
    but does not extend the cool-down: the breaker's verdict is already in.
    """
    current = state or BreakerState(name=name)
    failures = current.failures + 1
    if current.phase is BreakerPhase.CLOSED and failures < policy.threshold:
        return replace(current, failures=failures, updated_at=now)
    if current.phase is BreakerPhase.OPEN:
        return replace(current, failures=failures, updated_at=now)
    # CLOSED at the threshold, or HALF_OPEN whose probe failed: (re)open.
    return replace(
        current,
        phase=BreakerPhase.OPEN,
        failures=failures,
        opened_at=now,
        reopen_at=now + policy.cooldown_for(current.trips),
        trips=current.trips + 1,
        probe_owner=None,
        updated_at=now,
    )


def on_success(state: BreakerState | None, now: float, *, name: str) -> BreakerState | None:
    """Record one success: close and reset every counter, except while open.

    A success while open comes from a job that was already running when the breaker
    tripped; it proves little, so the cool-down and the probe decide instead.
    """
    if state is None:
        return None
    if state.phase is BreakerPhase.OPEN:
        return state
    if is_clean(state):
        return state
    return BreakerState(name=name, updated_at=now)


def try_probe(
    state: BreakerState | None, now: float, policy: BreakerPolicy, *, owner: str
) -> BreakerState | None:
    """Let ``owner`` run the one probe job: OPEN past its cool-down becomes HALF_OPEN.

    Also hands over a HALF_OPEN probe whose owner has been silent for ``probe_timeout``
    (it probably died). Anything else is returned unchanged, so the caller learns it lost
    by reading ``probe_owner`` of the result.
    """
    if state is None:
        return None
    if state.phase is BreakerPhase.OPEN:
        if state.reopen_at is not None and now < state.reopen_at:
            return state
        return replace(state, phase=BreakerPhase.HALF_OPEN, probe_owner=owner, updated_at=now)
    if (
        state.phase is BreakerPhase.HALF_OPEN
        and state.probe_owner != owner
        and now - state.updated_at >= policy.probe_timeout
    ):
        return replace(state, probe_owner=owner, updated_at=now)
    return state


def release_probe(state: BreakerState | None, now: float, *, owner: str) -> BreakerState | None:
    """Give up a probe without a verdict (the worker stopped): back to OPEN, due at once.

    Without this, a stopped worker's HALF_OPEN state would block the type for
    ``probe_timeout``.
    """
    if state is None or state.phase is not BreakerPhase.HALF_OPEN or state.probe_owner != owner:
        return state
    return replace(state, phase=BreakerPhase.OPEN, probe_owner=None, reopen_at=now, updated_at=now)


def is_claimable(state: BreakerState | None) -> bool:
    """True when jobs of this name may be claimed freely (not open, not probing)."""
    return state is None or state.phase is BreakerPhase.CLOSED


__all__ = [
    "BreakerPhase",
    "BreakerPolicy",
    "BreakerState",
    "is_claimable",
    "is_clean",
    "on_failure",
    "on_success",
    "release_probe",
    "try_probe",
]
