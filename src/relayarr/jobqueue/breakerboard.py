"""One worker's view of the shared circuit breakers: a cache over storage, plus the writes.

The cache keeps the claim path cheap: breakers are read from storage at most once per
:data:`REFRESH_SECONDS`, and a successful job writes only when its breaker is not already
clean. Every write goes through :meth:`BreakerStore.update_breaker` with a pure transition from
:mod:`relayarr.jobqueue.breaker`, so concurrent workers agree on the result.

Breakers are advisory: a storage error here is logged and the previous view is kept; it
never fails a job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from functools import partial

from relayarr.jobqueue import breaker as transitions
from relayarr.jobqueue.breaker import BreakerPolicy
from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.context import SERVICE
from relayarr.jobqueue.errors import JobQueueError
from relayarr.jobqueue.events import EventBus, EventKind
from relayarr.jobqueue.models import BreakerPhase, BreakerState
from relayarr.jobqueue.storage import BreakerStore

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0

PolicyLookup = Callable[[str], BreakerPolicy | None]


class BreakerBoard:
    """Decides which types a worker may claim, and records outcomes on their breakers."""

    def __init__(
        self,
        store: BreakerStore,
        clock: Clock,
        owner: str,
        events: EventBus,
        policy_for: PolicyLookup,
    ) -> None:
        self._store = store
        self._clock = clock
        self._owner = owner
        self._events = events
        self._policy_for = policy_for
        self._states: dict[str, BreakerState] = {}
        self._fetched_at: float | None = None

    def cached(self, name: str) -> BreakerState | None:
        """The last known state of ``name`` (None: never tripped, as far as we know)."""
        return self._states.get(name)

    async def refresh(self, *, force: bool = False) -> None:
        """Reload every breaker from storage, unless the cache is younger than a second."""
        now = asyncio.get_running_loop().time()
        if not force and self._fetched_at is not None and now - self._fetched_at < REFRESH_SECONDS:
            return
        try:
            states = await self._store.breakers()
        except JobQueueError as exc:
            logger.warning(
                "breaker refresh failed; keeping the last view: %s",
                exc,
                extra={"service": SERVICE, "operation": "breakers"},
            )
            return
        self._states = {state.name: state for state in states}
        self._fetched_at = now

    async def plan(self, types: Iterable[str]) -> tuple[list[str], list[str]]:
        """Split ``types`` into (claimable freely, claimable as one probe job each).

        Types whose breaker is open are left out; an open breaker past its cool-down is
        offered to this worker as a probe, and at most one worker wins it.
        """
        await self.refresh()
        free: list[str] = []
        probes: list[str] = []
        now = self._clock.now()
        for name in types:
            policy = self._policy_for(name)
            state = self._states.get(name)
            if policy is None or transitions.is_claimable(state):
                free.append(name)
                continue
            assert state is not None  # is_claimable(None) is True
            if state.phase is BreakerPhase.HALF_OPEN and state.probe_owner == self._owner:
                probes.append(name)
                continue
            if self._may_probe(state, now, policy):
                state = await self._apply(
                    name, partial(transitions.try_probe, now=now, policy=policy, owner=self._owner)
                )
                if (
                    state is not None
                    and state.phase is BreakerPhase.HALF_OPEN
                    and state.probe_owner == self._owner
                ):
                    probes.append(name)
        return free, probes

    @staticmethod
    def _may_probe(state: BreakerState, now: float, policy: BreakerPolicy) -> bool:
        if state.phase is BreakerPhase.OPEN:
            return state.reopen_at is None or now >= state.reopen_at
        return now - state.updated_at >= policy.probe_timeout  # a silent half-open probe

    def next_reopen(self, types: Iterable[str]) -> float | None:
        """The earliest time an open breaker among ``types`` lets a probe through."""
        times = [
            state.reopen_at
            for name in types
            if (state := self._states.get(name)) is not None
            and state.phase is BreakerPhase.OPEN
            and state.reopen_at is not None
            and self._policy_for(name) is not None
        ]
        return min(times, default=None)

    async def record_failure(self, name: str) -> None:
        """Count a handler failure (exception or timeout) against ``name``'s breaker."""
        policy = self._policy_for(name)
        if policy is None:
            return
        await self._apply(
            name, partial(transitions.on_failure, now=self._clock.now(), policy=policy, name=name)
        )

    async def record_success(self, name: str) -> None:
        """Close ``name``'s breaker if it is not clean; a clean one costs no write."""
        if self._policy_for(name) is None or transitions.is_clean(self._states.get(name)):
            return
        await self._apply(name, partial(transitions.on_success, now=self._clock.now(), name=name))

    async def release_probes(self) -> None:
        """Hand back every probe this worker holds (it is stopping), so others need not wait."""
        for name, state in list(self._states.items()):
            if state.phase is BreakerPhase.HALF_OPEN and state.probe_owner == self._owner:
                await self._apply(
                    name,
                    partial(transitions.release_probe, now=self._clock.now(), owner=self._owner),
                )

    async def _apply(
        self,
        name: str,
        transition: Callable[[BreakerState | None], BreakerState | None],
    ) -> BreakerState | None:
        # The transition sees the true stored state; remember it to report phase changes
        # against that, not against a cache that may be a second old.
        seen: list[BreakerState | None] = []

        def recording(state: BreakerState | None) -> BreakerState | None:
            seen[:] = [state]
            return transition(state)

        try:
            after = await self._store.update_breaker(name, recording)
        except JobQueueError as exc:
            logger.warning(
                "breaker update failed: %s",
                exc,
                extra={"service": SERVICE, "operation": "breaker", "type": name},
            )
            return self._states.get(name)
        if after is None:
            self._states.pop(name, None)
        else:
            self._states[name] = after
        before = seen[0] if seen else None
        before_phase = before.phase if before is not None else BreakerPhase.CLOSED
        after_phase = after.phase if after is not None else BreakerPhase.CLOSED
        if before_phase is not after_phase:
            self._announce(name, before_phase, after)
        return after

    def _announce(self, name: str, before: BreakerPhase, after: BreakerState | None) -> None:
        phase = after.phase if after is not None else BreakerPhase.CLOSED
        level = logging.WARNING if phase is BreakerPhase.OPEN else logging.INFO
        logger.log(
            level,
            "breaker %s -> %s",
            before.value,
            phase.value,
            extra={"service": SERVICE, "operation": "breaker", "type": name},
        )
        self._events.publish(
            EventKind.BREAKER,
            None,
            name,
            {
                "phase": phase.value,
                "previous": before.value,
                "failures": after.failures if after is not None else 0,
                "reopen_at": after.reopen_at if after is not None else None,
                "probe_owner": after.probe_owner if after is not None else None,
            },
        )


__all__ = ["REFRESH_SECONDS", "BreakerBoard"]
