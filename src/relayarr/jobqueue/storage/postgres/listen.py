"""LISTEN/NOTIFY as a wake-up hint: another process added work or events, look again.

Adds that make work due send ``NOTIFY relayarr_jobqueue`` in their transaction, appends to
the shared event log ``NOTIFY relayarr_events`` (PostgreSQL delivers them at commit and
folds identical notifications of one transaction into one). One dedicated connection per
storage handle listens on both, opened on the first wait only (a one-shot CLI command never
opens it). A notification is only a hint: whoever waits also polls, so a
lost notification (or a lost listening connection) costs latency, never a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from relayarr.jobqueue.errors import StorageError
from relayarr.jobqueue.storage.postgres.connection import PostgresOptions, asyncpg, connect_once

CHANNEL = "relayarr_jobqueue"  # work was added or made due again
EVENTS_CHANNEL = "relayarr_events"  # events were appended to the shared log
CHANNELS = (CHANNEL, EVENTS_CHANNEL)
RETRY_CONNECT = 5.0  # seconds between attempts to re-open a lost listening connection

log = logging.getLogger(__name__)


class Listener:
    """Turns notifications on :data:`CHANNELS` into an :class:`asyncio.Event`."""

    def __init__(self, options: PostgresOptions) -> None:
        self._options = options
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        self._changed = asyncio.Event()
        self._next_attempt = 0.0
        self._connecting: asyncio.Lock | None = None
        self._closed = False

    async def wait(self, max_wait: float) -> None:
        """Return when a notification arrived since the last wait returned, or after
        ``max_wait``. Without a listening connection this simply sleeps (polling)."""
        await self._ensure_listening()
        if not self._changed.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, max_wait)):
                    await self._changed.wait()
        self._changed.clear()

    async def _ensure_listening(self) -> None:
        if self._closed or (self._conn is not None and not self._conn.is_closed()):
            return
        if time.monotonic() < self._next_attempt:
            return
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._closed or (self._conn is not None and not self._conn.is_closed()):
                return
            self._next_attempt = time.monotonic() + RETRY_CONNECT
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
            conn.add_termination_listener(self._terminated)
            if self._closed:
                await self._discard(conn)
                return
            self._conn = conn
            # Anything sent while nobody listened is lost: look once more to be safe.
            self._changed.set()

    def _notified(self, *_args: object) -> None:
        self._changed.set()

    def _terminated(self, *_args: object) -> None:
        if not self._closed:
            log.warning(
                "postgresql listening connection lost; polling until it is back",
                extra={"service": "postgresql", "operation": "listen"},
            )
        self._changed.set()  # wake waiters: they poll, then wait again (and reconnect)

    async def _discard(self, conn: asyncpg.Connection[asyncpg.Record]) -> None:
        try:
            await asyncio.wait_for(conn.close(), timeout=5)
        except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            conn.terminate()

    async def close(self) -> None:
        self._closed = True
        self._changed.set()
        if self._connecting is not None:
            async with self._connecting:
                pass
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await self._discard(conn)
