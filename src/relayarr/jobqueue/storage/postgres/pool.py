"""The engine's own connection pool: at most ``pool_size`` connections, idle ones reused.

asyncpg's pool does a lot on every checkout: on release it runs a reset, arms a timeout
and an inactivity timer, and shields a new task, costing more client CPU than a one-row
statement itself. This pool hands a connection out and takes it back with a list pop and
append, so a one-statement operation costs its round trip and little else.

Connections carry no session state between operations (locks are per transaction), so
nothing is reset. One the operation left unusable (broken, mid-transaction, cancelled
mid-statement) is dropped, never handed on. Idle connections unused for
:data:`IDLE_LIFETIME` are closed, so a quiet process holds few server connections.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from relayarr.jobqueue.errors import StorageUnavailable

if TYPE_CHECKING:  # the driver is imported (or reported missing) by .connection
    import asyncpg

    Connection = asyncpg.Connection[asyncpg.Record]

Connect = Callable[[], Coroutine[Any, Any, "Connection"]]

IDLE_LIFETIME = 300.0  # seconds an idle connection is kept
CLOSE_TIMEOUT = 5.0  # seconds a graceful close may take before the socket is cut

# Sent in the startup packet of every pooled connection (no extra round trip).
SERVER_SETTINGS = {
    "application_name": "relayarr",
    # The queue table swings from empty to large and back, so its statistics often describe
    # it as it was when last analysed: nearly empty. The planner then believes a claim
    # matches a row or two, reads every due job through a bitmap scan and sorts them all,
    # instead of walking the claim index in order and stopping after LIMIT rows: O(queue
    # length) per claim, O(n^2) to drain a burst. No statement of this engine needs a bitmap
    # scan (each has a plain index path; see migration 0003), so they are priced out here.
    "enable_bitmapscan": "off",
}


class Pool:
    """Connections for one storage handle; :meth:`acquire` waits when all are busy."""

    def __init__(self, connect: Connect, size: int) -> None:
        self._connect = connect
        self._size = size
        self._open = 0  # connections open or being opened
        self._idle: list[tuple[Connection, float]] = []  # newest last: (conn, idle since)
        self._busy: set[Connection] = set()
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        self._all_returned: asyncio.Event | None = None

    async def acquire(self) -> Connection:
        """A connection for one operation; give it back with :meth:`release`."""
        while True:
            if self._closed:
                raise StorageUnavailable("storage is closed")
            while self._idle:
                conn, _ = self._idle.pop()
                if not conn.is_closed():
                    self._busy.add(conn)
                    return conn
                self._open -= 1
            if self._open < self._size:
                self._open += 1
                try:
                    conn = await self._connect()
                except BaseException:
                    self._open -= 1
                    self._hand_on(None)
                    raise
                if self._closed:
                    self.release(conn)
                    continue
                self._busy.add(conn)
                return conn
            waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed_over = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    # Handed a connection (or a free slot) just as we were cancelled.
                    handed = waiter.result()
                    if handed is not None:
                        self.release(handed)
                    else:
                        self._hand_on(None)
                raise
            if handed_over is not None:
                self._busy.add(handed_over)
                return handed_over
            # None: a connection was dropped, so there is room to open one; go round.

    def release(self, conn: Connection, *, discard: bool = False) -> None:
        """Take a connection back; one that is ``discard``-ed, closed or still inside a
        transaction is dropped (its slot goes to whoever waits)."""
        self._busy.discard(conn)
        if discard or self._closed or conn.is_closed() or conn.is_in_transaction():
            self._open -= 1
            self._close_soon(conn, graceful=not discard and not conn.is_in_transaction())
            self._hand_on(None)
            return
        self._hand_on(conn)

    def _hand_on(self, conn: Connection | None) -> None:
        """Give ``conn`` (or, with None, a free slot) to the first live waiter, else keep
        the connection idle."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is None:
            return
        now = time.monotonic()
        self._idle.append((conn, now))
        if self._idle[0][1] < now - IDLE_LIFETIME:
            stale, _ = self._idle.pop(0)
            self._open -= 1
            self._close_soon(stale, graceful=True)

    def _close_soon(self, conn: Connection, *, graceful: bool) -> None:
        if conn.is_closed():
            self._check_returned()
            return
        if not graceful:
            conn.terminate()
            self._check_returned()
            return
        task = asyncio.get_running_loop().create_task(self._close(conn))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, conn: Connection) -> None:
        try:
            await asyncio.wait_for(conn.close(), timeout=CLOSE_TIMEOUT)
        except Exception:  # timed out, or the connection broke while saying goodbye
            conn.terminate()
        except asyncio.CancelledError:
            conn.terminate()
            raise
        finally:
            self._check_returned()

    def _check_returned(self) -> None:
        if self._all_returned is not None and self._open == 0:
            self._all_returned.set()

    async def close(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a budget
        """Close idle connections now and busy ones as they come back; after ``timeout``
        seconds cut whatever is still out."""
        if self._closed:
            return
        self._closed = True
        self._all_returned = asyncio.Event()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(StorageUnavailable("storage is closed"))
        self._waiters.clear()
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            self._open -= 1
            self._close_soon(conn, graceful=True)
        self._check_returned()
        try:
            async with asyncio.timeout(timeout):
                await self._all_returned.wait()
                while self._closing:
                    await asyncio.gather(*self._closing, return_exceptions=True)
        except TimeoutError:
            for conn in self._busy:
                conn.terminate()
            for task in self._closing:
                task.cancel()
