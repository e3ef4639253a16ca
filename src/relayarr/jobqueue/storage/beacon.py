"""A count of hints that something may have changed, and a way to sleep until the next one.

Each engine bumps its beacon from whatever tells it about other processes (a NOTIFY, a
pub/sub message, a write to SQLite's WAL file). Waiters never reset it: each keeps the count
it last saw, so a hint that ends one waiter's sleep is still there for every other waiter.
"""

from __future__ import annotations

import asyncio
import contextlib


class Beacon:
    """Counts signals; :meth:`wait_past` sleeps until the count moves past a given value."""

    __slots__ = ("_event", "count")

    def __init__(self) -> None:
        self.count = 0
        self._event = asyncio.Event()

    def signal(self) -> None:
        self.count += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait_past(self, seen: int, deadline: float) -> None:
        """Return once the count is no longer ``seen``, or when the loop's clock reaches
        ``deadline``, whichever comes first."""
        if self.count != seen:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                while self.count == seen:
                    await self._event.wait()
