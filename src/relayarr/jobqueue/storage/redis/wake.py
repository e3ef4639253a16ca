"""Wake-ups across processes: a coalesced pub/sub hint that work became due.

A process about to wait sets ``P:wake:armed``; the first script afterwards that makes a job
due now (add, release, rescue, retry...) deletes that key and publishes once on
``P:wake``. So a busy queue publishes nothing, and an idle one publishes once per wake-up
whatever the number of jobs. Every subscribed process hears it.

The key is shared by every process, so whoever reads it must be sure that it was set after
the last message it heard: a watch may sleep only while nothing was heard since an arm
(a SET) that *succeeded* after its place was taken and before the caller's last look.
Hence, per handle:

* ``heard`` counts messages (and resubscriptions, after which anything may have been
  missed) on a :class:`Beacon`;
* an arm records the count before its SET and only after the SET succeeded becomes the
  armed count. It runs as a task of its own: a waiter cancelled mid-arm (its dispatcher
  was woken in-process) neither loses the SET nor believes in one never sent;
* each :class:`RedisWatch` keeps its own place, the armed count its last wait returned.

It sleeps while the beacon's count equals that place: had anyone deleted the key since the
arm, its message would have moved the count. A wait that hears a message returns at once
with no place; the next one arms and returns at once too, so the caller looks once more
after the arm before a wait sleeps again. The SET is thus off the wake-up's path: the woken
caller's claim goes out the moment the message is read. If the subscription is down, waits
run to their timeout (polling).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from relayarr.jobqueue.storage.beacon import Beacon

log = logging.getLogger(__name__)

ARM_TIMEOUT = 5.0  # seconds; a hung server must not hold a wait past its bound for long


class WakeListener:
    """One subscription per storage handle, read by a background task, and the arming."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._channel = prefix + "wake"
        self._armed_key = prefix + "wake:armed"
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self.beacon = Beacon()  # messages heard, and resubscriptions
        self._armed = -1  # the beacon's count before the last SET that succeeded
        self._arming: asyncio.Task[int] | None = None
        self.closed = False

    async def wait(self, place: int | None, max_wait: float) -> int | None:
        """Sleep while nothing was heard since ``place`` (None: no place yet), at most
        ``max_wait``; then make sure the key is armed and return the new place."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="relayarr-redis-wake")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self._subscribed.wait()
        if place is not None:
            await self.beacon.wait_past(place, deadline)
            if self.beacon.count == place:
                return place  # the bound, and nothing heard: still armed
            # Heard something: the caller looks at once, without waiting for a SET (its
            # round trip is a third of a wake-up). The next wait arms, and returns at once
            # so that the caller looks once more before any wait may sleep.
            return None
        try:
            return await self._ensure_armed()
        except (RedisError, OSError, TimeoutError):
            # The server is away: the caller's next claim will say so; do not spin.
            remaining = deadline - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
            return None

    async def _ensure_armed(self) -> int:
        count = self.beacon.count
        if self._armed == count:
            return count  # armed, and nobody deleted the key since (we would have heard)
        task = self._arming
        if task is None:
            task = self._arming = asyncio.create_task(self._arm(count), name="relayarr-redis-arm")
            task.add_done_callback(_retrieve)
        # An arm begun for an older count still serves: the place it returns is older than
        # what was heard since, so the next wait returns at once and arms again.
        return await asyncio.shield(task)

    async def _arm(self, count: int) -> int:
        try:
            async with asyncio.timeout(ARM_TIMEOUT):
                await self._redis.set(self._armed_key, "1")
            self._armed = count
            return count
        finally:
            self._arming = None

    async def _listen(self) -> None:
        delay = 0.05
        while True:
            pubsub: PubSub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                self.beacon.signal()  # anything may have happened while unsubscribed
                delay = 0.05
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None:
                        self.beacon.signal()
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                log.debug(
                    "wake-up subscription lost; resubscribing",
                    extra={"service": "redis", "error": str(exc)},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                await pubsub.aclose()

    async def close(self) -> None:
        self.closed = True
        for task in (self._task, self._arming):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, RedisError, OSError, TimeoutError):
                    await task
        self._task = self._arming = None


class RedisWatch:
    """A :class:`~relayarr.jobqueue.storage.ChangeWatch` on a handle's wake-up listener."""

    def __init__(self, listener: WakeListener) -> None:
        self._listener = listener
        self._place: int | None = None

    async def wait(self, max_wait: float) -> None:
        if self._listener.closed:
            return
        self._place = await self._listener.wait(self._place, max_wait)


def _retrieve(task: asyncio.Task[int]) -> None:
    # Whoever awaited the arm may have been cancelled meanwhile: its failure is not news
    # (the next wait arms again), so it must not be reported as never retrieved.
    if not task.cancelled():
        task.exception()
