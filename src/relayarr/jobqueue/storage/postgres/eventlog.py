"""The shared event log on PostgreSQL: what workers in any process did, for any reader.

Appends of one call are one statement (arrays, one round trip). Appenders serialise on an
advisory lock held until their commit, so the log's ids follow commit order and a reader
that resumes after id N can never miss a smaller id committed later (plain sequence values
are handed out at insert time, not at commit, and would allow exactly that). The price is
that appends from different processes commit one after another; the queue appends once
per loop turn with everything collected meanwhile, so batches grow instead of waiting.

Every append sends ``NOTIFY relayarr_events``, so followers waiting on a ``ChangeWatch``
wake at once; the log is trimmed to the newest ``event_retention`` events every
:data:`TRIM_EVERY` appended events (per handle), inside an append.
"""

from __future__ import annotations

from collections.abc import Sequence

from relayarr.jobqueue.events import Event
from relayarr.jobqueue.models import dump_json
from relayarr.jobqueue.storage.postgres.connection import Database
from relayarr.jobqueue.storage.sql import row_to_event

TRIM_EVERY = 1000  # appended events (by this handle) between trims of the log
APPEND_LOCK = 0x72656C61795F6576  # "relay_ev": serialises appenders of one database


class PostgresEventLog:
    """Appends to, reads and trims the ``event_log`` table of one database."""

    def __init__(self, db: Database, queries: dict[str, str], retention: int) -> None:
        self._db = db
        self._append = queries["append_events"]
        self._read = queries["read_events"]
        self._last = queries["last_event_id"]
        self._retention = retention
        self._since_trim = 0

    async def append(self, events: Sequence[Event]) -> None:
        if not events:
            return
        trim = self._since_trim + len(events) >= TRIM_EVERY
        params = (
            [event.at.timestamp() for event in events],
            [event.kind.value for event in events],
            [event.job_id for event in events],
            [event.job_type for event in events],
            [dump_json(dict(event.data), "event data") for event in events],
            APPEND_LOCK,
            trim,
            self._retention,
        )
        # A write whose commit goes unanswered is not retried (it could double the events):
        # the caller gets a StorageError, and the relay drops the batch with a warning.
        await self._db.run(
            lambda conn: conn.execute(self._append, *params), name="append events", write=True
        )
        self._since_trim = 0 if trim else self._since_trim + len(events)

    async def read(self, after_id: int, limit: int) -> list[Event]:
        if limit < 1:
            return []
        rows = await self._db.run(
            lambda conn: conn.fetch(self._read, after_id, limit), name="read events"
        )
        return [row_to_event(row) for row in rows]

    async def last_id(self) -> int:
        last: int = await self._db.run(lambda conn: conn.fetchval(self._last), name="last event")
        return last
