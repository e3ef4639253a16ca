"""Contract: shared circuit-breaker state.

Breaker semantics of :meth:`BreakerStore.update_breaker` pinned down here:

* the transition receives the stored state of that name, or None when there is none;
* a state it returns is stored as given and returned;
* None deletes the stored state (a no-op when there is none), and update_breaker returns None;
* it must be pure: an engine may call it more than once (optimistic retries), and only the
  result of the call that commits counts;
* a state of another name is refused with ValueError, and an exception the transition raises
  reaches the caller unchanged (it is the caller's code, not the engine failing); either
  way nothing is stored.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.models import BreakerPhase, BreakerState
from relayarr.jobqueue.storage import BreakerTransition, StorageEngine
from relayarr.jobqueue.testing.base import START, TYPE_A, TYPE_B, ContractBase


def tripped(name: str) -> BreakerState:
    """A breaker with every field set away from its default."""
    return BreakerState(
        name=name,
        phase=BreakerPhase.OPEN,
        failures=3,
        opened_at=START + 1.5,
        reopen_at=START + 61.5,
        trips=2,
        probe_owner="worker-probe",
        updated_at=START + 1.5,
    )


class TransitionBug(Exception):
    """Raised by a transition in the tests: what a bug in a caller's transition looks like."""


def constant(state: BreakerState | None) -> BreakerTransition:
    """A transition that stores ``state`` whatever was there."""
    return lambda _current: state


def count_failure(state: BreakerState | None, name: str) -> BreakerState:
    current = state or BreakerState(name=name)
    return dataclasses.replace(current, failures=current.failures + 1)


class BreakerContract(ContractBase):
    """breakers() and update_breaker()."""

    async def test_breaker_is_created_from_none_and_stored_as_given(
        self, storage: StorageEngine
    ) -> None:
        assert await storage.breakers() == []
        seen: list[BreakerState | None] = []

        def create(current: BreakerState | None) -> BreakerState:
            seen.append(current)
            return tripped(TYPE_A)

        assert await storage.update_breaker(TYPE_A, create) == tripped(TYPE_A)
        assert seen
        assert set(seen) == {None}
        assert await storage.breakers() == [tripped(TYPE_A)]

    async def test_transition_sees_the_stored_state(self, storage: StorageEngine) -> None:
        await storage.update_breaker(TYPE_A, constant(tripped(TYPE_A)))
        seen: list[BreakerState | None] = []

        def close(current: BreakerState | None) -> BreakerState:
            seen.append(current)
            assert current is not None
            return dataclasses.replace(current, phase=BreakerPhase.CLOSED, failures=0)

        closed = await storage.update_breaker(TYPE_A, close)
        assert set(seen) == {tripped(TYPE_A)}
        expected = dataclasses.replace(tripped(TYPE_A), phase=BreakerPhase.CLOSED, failures=0)
        assert closed == expected
        assert await storage.breakers() == [expected]

    async def test_transition_returning_none_deletes(self, storage: StorageEngine) -> None:
        await storage.update_breaker(TYPE_A, constant(tripped(TYPE_A)))
        await storage.update_breaker(TYPE_B, constant(tripped(TYPE_B)))
        assert await storage.update_breaker(TYPE_A, constant(None)) is None
        assert await storage.breakers() == [tripped(TYPE_B)]
        assert await storage.update_breaker("contract-never", constant(None)) is None
        assert await storage.breakers() == [tripped(TYPE_B)]

    async def test_a_transition_that_renames_its_breaker_is_refused(
        self, storage: StorageEngine
    ) -> None:
        await storage.update_breaker(TYPE_A, constant(tripped(TYPE_A)))
        with pytest.raises(ValueError, match="renamed"):
            await storage.update_breaker(TYPE_A, constant(tripped(TYPE_B)))
        with pytest.raises(ValueError, match="renamed"):
            await storage.update_breaker(TYPE_B, constant(tripped(TYPE_A)))  # none stored yet
        assert await storage.breakers() == [tripped(TYPE_A)]

    async def test_an_error_of_the_transition_reaches_the_caller_unchanged(
        self, storage: StorageEngine
    ) -> None:
        await storage.update_breaker(TYPE_A, constant(tripped(TYPE_A)))

        def broken(_current: BreakerState | None) -> BreakerState | None:
            raise TransitionBug("a bug in the caller's transition")

        with pytest.raises(TransitionBug):
            await storage.update_breaker(TYPE_A, broken)
        with pytest.raises(TransitionBug):
            await storage.update_breaker(TYPE_B, broken)
        assert await storage.breakers() == [tripped(TYPE_A)]
        await storage.update_breaker(TYPE_B, constant(tripped(TYPE_B)))  # the handle still works
        assert {state.name for state in await storage.breakers()} == {TYPE_A, TYPE_B}

    async def test_breakers_are_independent_by_name(self, storage: StorageEngine) -> None:
        names = [TYPE_B, TYPE_A, "player:kodi-living-room"]
        for n, name in enumerate(names):
            state = dataclasses.replace(tripped(name), failures=n)
            assert await storage.update_breaker(name, constant(state)) == state
        listed = {state.name: state for state in await storage.breakers()}
        assert listed == {
            name: dataclasses.replace(tripped(name), failures=n) for n, name in enumerate(names)
        }

    async def test_concurrent_updates_lose_nothing(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """Many tasks on two handles increment one counter at once; every increment lands."""
        handles = [storage, await self.another_handle(clock)]
        updates = 40

        async def increment(index: int) -> None:
            handle = handles[index % len(handles)]
            await handle.update_breaker(TYPE_A, lambda s: count_failure(s, TYPE_A))

        await asyncio.gather(*(increment(index) for index in range(updates)))
        [state] = await storage.breakers()
        assert state.failures == updates
