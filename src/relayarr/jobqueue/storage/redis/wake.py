"""Wake-ups across processes: a coalesced pub/sub hint that work became due.

A process about to wait sets ``P:wake:armed``; the first script afterwards that makes a job
due now (add, release, rescue, retry...) deletes that key and publishes once on
``P:wake``. So a busy queue publishes nothing, and an idle one publishes once per wake-up
whatever the number of jobs. Every subscribed process hears it.

No wake-up is lost: the key is armed *before* the caller's next claim (at the end of each
wait), and a message that arrives while nobody waits is remembered, so the next wait returns
at once. If the subscription is down, waits simply run to their timeout (polling).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

ARM_TIMEOUT = 5.0  # seconds; a hung server must not hold a wait past its bound for long


class WakeListener:
    """One subscription per storage handle, read by a background task."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._channel = prefix + "wake"
        self._armed_key = prefix + "wake:armed"
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._event = asyncio.Event()
        self.heard = 0  # wake-ups received so far
        self._armed_at = -1  # value of ``heard`` when this process last armed

    async def wait(self, max_wait: float) -> None:
        """Return when a wake-up arrives (or arrived since the last wait), or after max_wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="relayarr-redis-wake")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self._subscribed.wait()
                if self.heard == self._armed_at:
                    await self._event.wait()
        try:
            await self._arm()
        except (RedisError, OSError, TimeoutError):
            # The server is away: the caller's next claim will say so; do not spin.
            remaining = deadline - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)

    async def _arm(self) -> None:
        self._armed_at = self.heard
        async with asyncio.timeout(ARM_TIMEOUT):
            await self._redis.set(self._armed_key, "1")

    async def _listen(self) -> None:
        delay = 0.05
        while True:
            pubsub: PubSub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                self._heard()  # anything may have happened while unsubscribed
                delay = 0.05
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None:
                        self._heard()
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

    def _heard(self) -> None:
        self.heard += 1
        self._event.set()
        self._event = asyncio.Event()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
