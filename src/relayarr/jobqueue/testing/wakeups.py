"""Contract: wake-ups across handles, through :meth:`Storage.watch_changes`.

A second handle on the same database stands for another process (it is another connection,
subscription or listener on every engine). What every engine must keep:

* a wait returns within its bound, changes or not;
* a change made through another handle after a watch's last wait returned ends its next
  wait, even when that last wait was cancelled at an arbitrary moment (a dispatcher woken
  in-process cancels its wait all the time);
* each watch keeps its own place: a change that ended one watch's wait still ends another's.

These hold with ``capabilities.instant_wakeups`` and without it (then a wait finds the
change by polling, a little later); the waits here are bounded by an hour, so only the
change can end them, and :data:`HANG_GUARD` only stops a broken engine from hanging.
"""

from __future__ import annotations

import asyncio

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.storage import ChangeWatch, StorageEngine
from relayarr.jobqueue.testing.base import ContractBase

HANG_GUARD = 60.0  # seconds; never reached by an engine that keeps the contract
FOREVER = 3600.0  # a wait's bound that no test waits out
SETTLE = 0.05  # seconds a wait is given to show that it sleeps


async def settled(watch: ChangeWatch) -> None:
    """The first wait of a watch sets up its engine's wake-up and may return at once; once
    it has, the watch sleeps until a change."""
    await asyncio.wait_for(watch.wait(FOREVER), HANG_GUARD)


async def sleeping(watch: ChangeWatch) -> asyncio.Task[None]:
    """A wait of ``watch`` in a task, checked to be asleep."""
    waiting = asyncio.create_task(watch.wait(FOREVER))
    await asyncio.sleep(SETTLE)
    assert not waiting.done(), "the wait ended though nothing changed"
    return waiting


async def asleep(watch: ChangeWatch) -> asyncio.Task[None]:
    """A wait of ``watch`` in a task once it sleeps: waits that end at once, on what the
    watch heard before, are let go (a few at most)."""
    for _ in range(3):
        waiting = asyncio.create_task(watch.wait(FOREVER))
        await asyncio.sleep(SETTLE)
        if not waiting.done():
            return waiting
        await waiting
    raise AssertionError("the watch keeps waking though nothing changes")


class WakeupContract(ContractBase):
    """watch_changes() and ChangeWatch.wait()."""

    async def test_a_wait_returns_within_its_bound(self, storage: StorageEngine) -> None:
        watch = storage.watch_changes()
        await asyncio.wait_for(watch.wait(0.05), HANG_GUARD)
        await asyncio.wait_for(watch.wait(0.05), HANG_GUARD)
        await self.add_job(storage)
        await asyncio.wait_for(watch.wait(0.05), HANG_GUARD)

    async def test_an_add_through_another_handle_ends_a_sleeping_wait(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        other = await self.another_handle(clock)
        watch = storage.watch_changes()
        await settled(watch)
        waiting = await sleeping(watch)
        await self.add_job(other)
        await asyncio.wait_for(waiting, HANG_GUARD)

    async def test_a_change_while_nobody_waits_ends_the_next_wait(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        other = await self.another_handle(clock)
        watch = storage.watch_changes()
        await settled(watch)
        await self.add_job(other)
        await asyncio.sleep(SETTLE)  # the hint arrives while nobody waits
        await asyncio.wait_for(watch.wait(FOREVER), HANG_GUARD)

    async def test_a_change_that_woke_one_watch_still_wakes_another(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """An event follower and a dispatcher share a handle: the follower's wake-up must
        not use up the dispatcher's, which was busy claiming when the change came."""
        other = await self.another_handle(clock)
        follower, dispatcher = storage.watch_changes(), storage.watch_changes()
        await settled(follower)
        await settled(dispatcher)
        waiting = await sleeping(follower)
        await self.add_job(other)
        await asyncio.wait_for(waiting, HANG_GUARD)
        await asyncio.wait_for(dispatcher.wait(FOREVER), HANG_GUARD)

    async def test_a_wait_cancelled_at_any_moment_never_sleeps_through_the_next_change(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """A dispatcher woken in-process cancels its wait wherever it happens to be (setting
        up, arming, sleeping); whatever state that leaves, the next change must end the
        next wait. Each round cancels one loop turn later than the one before."""
        other = await self.another_handle(clock)
        watch = storage.watch_changes()
        await settled(watch)
        for turns in range(40):
            # Another process's change first, so the cancelled wait has something to do.
            await self.add_job(other)
            cancelled = asyncio.create_task(watch.wait(FOREVER))
            # The handle is busy meanwhile, as a worker's is (claims, completions): a wait
            # may then need a connection of its own, and be cancelled while it makes one.
            busy = asyncio.create_task(storage.stats())
            for _ in range(turns):
                await asyncio.sleep(0)
            cancelled.cancel()
            await asyncio.gather(cancelled, busy, return_exceptions=True)
            waiting = await asleep(watch)
            await self.add_job(other)
            await asyncio.wait_for(waiting, HANG_GUARD)
