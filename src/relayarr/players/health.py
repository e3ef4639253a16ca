"""A circuit breaker per player, so a player that is down is not asked again and again.

The transitions are the job queue's own (:mod:`relayarr.jobqueue.breaker`: consecutive
failures open the breaker for a cool-down that doubles each time, then one probe decides);
only the state lives here, in memory of this process. Each process (``relayarr serve``,
every ``relayarr worker``) therefore learns about a dead player on its own, after
``breaker_threshold`` failures of its own; storing the state in the queue's storage,
shared like the job-type breakers, is the step that would change that.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from relayarr.jobqueue import BreakerPhase, BreakerPolicy, BreakerState
from relayarr.jobqueue.breaker import on_failure, on_success, release_probe, try_probe

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Admission:
    """Whether a player may be asked now; when not, how long until it may be probed."""

    allowed: bool
    token: str = ""
    wait: float = 0.0


class BreakerBoard:
    """The breakers of a set of players, in memory, under one clock."""

    def __init__(self, policies: Mapping[str, BreakerPolicy], clock: Clock) -> None:
        self._policies = dict(policies)
        self._clock = clock
        self._states: dict[str, BreakerState] = {}
        self._tokens = itertools.count(1)

    def admit(self, player: str) -> Admission:
        """Let a request to ``player`` through when its breaker is closed, or make this the
        one probe when the cool-down is over; otherwise say how long to wait."""
        state = self._states.get(player)
        if state is None or state.phase is BreakerPhase.CLOSED:
            return Admission(allowed=True)
        token = f"probe-{next(self._tokens)}"
        now = self._clock()
        after = try_probe(state, now, self._policies[player], owner=token)
        if after is not None and after.probe_owner == token:
            self._states[player] = after
            return Admission(allowed=True, token=token)
        reopen = state.reopen_at if state.reopen_at is not None else now
        return Admission(allowed=False, wait=max(0.0, reopen - now))

    def succeeded(self, player: str) -> None:
        """The player answered as it should: close its breaker."""
        after = on_success(self._states.get(player), self._clock(), name=player)
        self._store(player, after)

    def failed(self, player: str) -> None:
        """The player could not be reached or answered wrongly: count it."""
        policy = self._policies[player]
        self._states[player] = on_failure(
            self._states.get(player), self._clock(), policy, name=player
        )

    def release(self, player: str, admission: Admission) -> None:
        """A probe ended with no verdict on the player's health (say, a path error)."""
        if admission.token:
            after = release_probe(self._states.get(player), self._clock(), owner=admission.token)
            self._store(player, after)

    def now(self) -> float:
        """The board's clock."""
        return self._clock()

    def state(self, player: str) -> BreakerState:
        """The breaker of ``player`` as it stands (closed and clean when never touched)."""
        return self._states.get(player) or BreakerState(name=player)

    def _store(self, player: str, state: BreakerState | None) -> None:
        if state is None:
            self._states.pop(player, None)
        else:
            self._states[player] = state


__all__ = ["Admission", "BreakerBoard", "Clock"]
