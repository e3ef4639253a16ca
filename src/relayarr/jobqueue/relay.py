"""Events across processes: copy this process's events into storage, and follow everyone's.

A web node that runs no workers still has to show what workers in other processes do. With
``JobQueue(storage, share_events=True)`` every event of the local bus is also appended to the
engine's shared event log (batched: the events of a few milliseconds in one write), and
:meth:`EventRelay.follow` reads the log from any id on, so a reader that reconnects resumes
exactly where it stopped.

Sharing events is best effort, like the bus itself: a failed append is logged and dropped,
never allowed to fail a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from relayarr.jobqueue.context import SERVICE
from relayarr.jobqueue.errors import JobQueueError
from relayarr.jobqueue.events import Event
from relayarr.jobqueue.storage import EventLog, Storage

logger = logging.getLogger(__name__)

READ_BATCH = 500
FOLLOW_POLL = 0.05  # seconds between looks at the log when nothing new arrived
# Seconds an append waits for company. A producer adding one job at a time would otherwise
# pay a second write (a second script, a second commit) per job for its "added" event;
# waiting a few milliseconds makes that one write per few dozen jobs, and followers see
# events that much later.
LINGER = 0.005
APPEND_BATCH = 1000  # this many waiting events go at once, lingering no longer


class EventRelay:
    """Appends local events to a storage's event log and follows the log."""

    def __init__(self, storage: Storage) -> None:
        if not storage.capabilities.cross_process_events or not isinstance(storage, EventLog):
            raise JobQueueError(
                f"the {storage.capabilities.engine} engine keeps no shared event log; "
                "events can only be followed in the process that publishes them"
            )
        self._storage = storage
        self._log: EventLog = storage
        self._pending: list[Event] = []
        self._flushing: asyncio.Task[None] | None = None
        self._full = asyncio.Event()  # ends a linger early

    def collect(self, event: Event) -> None:
        """A bus listener: queue the event for the next append (see :data:`LINGER`)."""
        self._pending.append(event)
        if self._flushing is None:
            self._full.clear()
            self._flushing = asyncio.get_running_loop().create_task(self._flush(LINGER))
        elif len(self._pending) >= APPEND_BATCH:
            self._full.set()

    async def _flush(self, linger: float) -> None:
        try:
            if linger > 0 and len(self._pending) < APPEND_BATCH:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(linger):
                        await self._full.wait()
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._log.append_events(batch)
                except JobQueueError as exc:
                    logger.warning(
                        "events not shared: %s",
                        exc,
                        extra={"service": SERVICE, "operation": "share", "dropped": len(batch)},
                    )
        finally:
            self._flushing = None

    async def flush(self) -> None:
        """Wait until every collected event has been appended (or dropped with a warning)."""
        while self._flushing is not None or self._pending:
            if self._flushing is None:
                self._flushing = asyncio.get_running_loop().create_task(self._flush(0))
            else:
                self._full.set()  # stop lingering: someone waits for these events
            await asyncio.shield(self._flushing)

    async def last_id(self) -> int:
        """The newest id in the shared log: follow from here to see only what comes next."""
        return await self._log.last_event_id()

    async def follow(self, after_id: int = 0) -> AsyncIterator[Event]:
        """Every event in the log with an id above ``after_id``, then new ones as they come.

        Ids only grow. If the log was trimmed past ``after_id``, the first event's id jumps
        over the gap; a caller can compare ids to tell how many it missed.
        """
        last = after_id
        changes = self._storage.watch_changes()
        while True:
            events = await self._log.read_events(last, READ_BATCH)
            for event in events:
                last = event.id
                yield event
            if len(events) < READ_BATCH:
                await changes.wait(FOLLOW_POLL)


__all__ = ["EventRelay"]
