"""LISTEN/NOTIFY as a wake-up hint: another process added work or events, look again.

Adds that make work due send ``NOTIFY relayarr_jobqueue`` in their transaction, appends to
the shared event log ``NOTIFY relayarr_events`` (PostgreSQL delivers them at commit and
folds identical notifications of one transaction into one). One dedicated connection per
storage handle listens on both, opened on the first wait only (a one-shot CLI command never
opens it). A notification is only a hint: whoever waits also polls, so a
lost notification (or a lost listening connection) costs latency, never a job.

Notifications are counted on a :class:`Beacon`; each :class:`PostgresWatch` keeps the count
its last wait returned with, so a notification that woke one waiter of the handle (an
event follower) still wakes another (the dispatcher) that was busy when it came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from relayarr.jobqueue.errors import StorageError
from relayarr.jobqueue.storage.beacon import Beacon
from relayarr.jobqueue.storage.postgres.connection import PostgresOptions, asyncpg, connect_once

CHANNEL = "relayarr_jobqueue"  # work was added or made due again
EVENTS_CHANNEL = "relayarr_events"  # events were appended to the shared log
CHANNELS = (CHANNEL, EVENTS_CHANNEL)
RETRY_CONNECT = 5.0  # seconds between attempts to re-open a lost listening connection

log = logging.getLogger(__name__)


class Listener:
    """Turns notifications on :data:`CHANNELS` into wake-ups for whoever waits.

    The listening connection is opened (and re-opened after a loss, at most every
    :data:`RETRY_CONNECT` seconds) by a task of its own, never inside a waiter: a waiter
    cancelled early (its caller was woken in-process) must not cancel the connection
    attempt with it, or the handle would poll for the whole retry interval.
    """

    def __init__(self, options: PostgresOptions) -> None:
        self._options = options
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        self.beacon = Beacon()  # notifications (and reconnections) so far
        self._next_attempt = 0.0
        self._connecting: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def wait(self, place: int, max_wait: float) -> int:
        """Return the count of notifications once it moved past ``place``, or after
        ``max_wait``. Without a listening connection this simply sleeps (polling)."""
        self._ensure_listening()
        loop = asyncio.get_running_loop()
        await self.beacon.wait_past(place, loop.time() + max(0.0, max_wait))
        return self.beacon.count

    def _ensure_listening(self) -> None:
        if self._closed or self._connecting is not None:
            return
        if self._conn is not None and not self._conn.is_closed():
            return
        if time.monotonic() < self._next_attempt:
            return
        self._next_attempt = time.monotonic() + RETRY_CONNECT
        self._connecting = asyncio.get_running_loop().create_task(
            self._listen(), name="relayarr-postgresql-listen"
        )
        self._connecting.add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task[None]) -> None:
        self._connecting = None
        if not task.cancelled() and task.exception() is not None:
            log.warning(
                "postgresql listener failed, polling instead: %s",
                task.exception(),
                extra={"service": "postgresql", "operation": "listen"},
            )

    async def _listen(self) -> None:
        try:
            conn = await connect_once(self._options)
        except StorageError as exc:
            log.warning(
                "postgresql listener cannot connect, polling instead: %s",
                exc,
                extra={"service": "postgresql", "operation": "listen"},
            )
            return
        try:
            for channel in CHANNELS:
                await conn.add_listener(channel, self._notified)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            log.warning(
                "postgresql LISTEN failed, polling instead: %s",
                exc,
                extra={"service": "postgresql", "operation": "listen"},
            )
            await self._discard(conn)
            return
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(self._terminated)
        if self._closed:
            await self._discard(conn)
            return
        self._conn = conn
        # Anything sent while nobody listened is lost: look once more to be safe.
        self._notified()

    def _notified(self, *_args: object) -> None:
        self.beacon.signal()

    def _terminated(self, *_args: object) -> None:
        if not self._closed:
            log.warning(
                "postgresql listening connection lost; polling until it is back",
                extra={"service": "postgresql", "operation": "listen"},
            )
        self._notified()  # wake waiters: they poll, then wait again (and reconnect)

    async def _discard(self, conn: asyncpg.Connection[asyncpg.Record]) -> None:
        try:
            await asyncio.wait_for(conn.close(), timeout=5)
        except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            conn.terminate()

    async def close(self) -> None:
        self._closed = True
        self._notified()
        task, self._connecting = self._connecting, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await self._discard(conn)


class PostgresWatch:
    """A :class:`~relayarr.jobqueue.storage.ChangeWatch` on a handle's listener.

    Its place starts where the listener's count stands when it is made, so whatever is
    notified from then on ends its first wait (the listener's connecting counts as one).
    """

    def __init__(self, listener: Listener) -> None:
        self._listener = listener
        self._place = listener.beacon.count

    async def wait(self, max_wait: float) -> None:
        if self._listener.closed:
            return
        # Taken when the wait returns, even if the caller is cancelled meanwhile: whatever
        # it reads next is newer than every notification counted so far.
        try:
            await self._listener.wait(self._place, max_wait)
        finally:
            self._place = self._listener.beacon.count
