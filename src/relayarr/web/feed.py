"""The event feed behind the WebSocket and the job-outcome metrics.

Two sources, chosen by the storage engine:

* **shared** (engines with ``cross_process_events``, the queue built with
  ``share_events``): one task follows the storage's event log, so the feed holds every
  process's events (workers elsewhere included) under the log's ids, which survive a
  restart of this server. A client resuming from an id older than the ring reads the
  rest from storage.
* **local** (other engines): the events of this process's bus, numbered by the bus; ids
  start again when the process does (``stream`` tells the numberings apart).

Either way the newest :data:`DEFAULT_CAPACITY` events are kept in memory in one ring
that every client reads at its own pace, and each event is handed to the listeners
(the metrics) exactly once.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from relayarr.jobqueue import Event, JobQueue, JobQueueError
from relayarr.jobqueue.storage import EventLog as StorageEventLog

logger = logging.getLogger(__name__)

DEFAULT_CAPACITY = 10_000
READ_LIMIT = 1000
RETRY_SECONDS = 1.0

Listener = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a client gets after its cursor: events oldest first, and how many ids were
    skipped because they are no longer held anywhere."""

    events: list[Event]
    missed: int


class Ring:
    """The newest ``capacity`` events in id order, found by id in O(log n)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._events: list[Event] = []
        self._start = 0  # index of the oldest held event (older ones await compaction)
        self.last_id = 0

    @property
    def oldest_id(self) -> int:
        """Id of the oldest event held; ``last_id + 1`` when empty."""
        if self._start < len(self._events):
            return self._events[self._start].id
        return self.last_id + 1

    def reset(self, last_id: int) -> None:
        """Empty the ring and continue numbering after ``last_id``."""
        self._events, self._start, self.last_id = [], 0, last_id

    def append(self, event: Event) -> None:
        self._events.append(event)
        self.last_id = event.id
        if len(self._events) - self._start > self._capacity:
            self._start += 1
            if self._start >= self._capacity:  # amortised: one copy per capacity events
                del self._events[: self._start]
                self._start = 0

    def since(self, after: int, limit: int) -> list[Event]:
        """Up to ``limit`` held events with an id above ``after``."""
        index = bisect.bisect_right(self._events, after, lo=self._start, key=lambda e: e.id)
        return self._events[index : index + limit]


class EventFeed:
    """Recent queue events for WebSocket clients and metrics; see the module doc."""

    def __init__(self, queue: JobQueue, capacity: int = DEFAULT_CAPACITY) -> None:
        self._queue = queue
        self._ring = Ring(capacity)
        self._listeners: list[Listener] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        storage = queue.storage
        self._log: StorageEventLog | None = None
        if queue.relay is not None and isinstance(storage, StorageEventLog):
            self._log = storage
        self.stream = "shared" if self._log is not None else uuid.uuid4().hex
        if self._log is None:
            queue.events.add_listener(self._record)

    @property
    def shared(self) -> bool:
        """True when the feed follows the storage's event log (every process's events)."""
        return self._log is not None

    @property
    def last_id(self) -> int:
        return self._ring.last_id

    @property
    def oldest_id(self) -> int:
        return self._ring.oldest_id

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event)`` for each event entering the feed (quick, no raising)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Begin following the shared log from its current end (no-op for a local feed)."""
        if self._log is None or self._task is not None:
            return
        last = await self._log.last_event_id()
        self._ring.reset(last)
        self._task = asyncio.create_task(self._follow(last), name="relayarr-event-feed")

    async def stop(self) -> None:
        """Stop following (the ring keeps what it has)."""
        if self._log is None:
            self._queue.events.remove_listener(self._record)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self, after: int) -> None:
        while True:
            try:
                async for event in self._queue.follow_events(after):
                    self._record(event)
                    after = event.id
            except JobQueueError as exc:
                logger.warning(
                    "event log unreadable; retrying: %s",
                    exc,
                    extra={"service": "web", "operation": "events"},
                )
                await asyncio.sleep(RETRY_SECONDS)

    def _record(self, event: Event) -> None:
        self._ring.append(event)
        for listener in self._listeners:
            listener(event)
        self._changed.set()

    async def backlog(self, after: int, limit: int = READ_LIMIT) -> Backlog:
        """Events with an id above ``after``, oldest first (at most ``limit``).

        Older than the ring: read from the shared log when there is one; whatever is
        gone is counted in ``missed``.
        """
        oldest = self._ring.oldest_id
        if after + 1 >= oldest:
            return Backlog(self._ring.since(after, limit), 0)
        if self._log is not None:
            events = [e for e in await self._log.read_events(after, limit) if e.id < oldest]
            if events:
                return Backlog(events, events[0].id - after - 1)
        return Backlog(self._ring.since(after, limit), oldest - after - 1)

    async def read(self, after: int, limit: int = READ_LIMIT) -> list[Event]:
        """Events with an id above ``after``, oldest first, at most ``limit``, from the shared
        log when there is one (else from the ring); ids trimmed away are skipped silently."""
        if self._log is not None:
            return await self._log.read_events(after, limit)
        return self._ring.since(after, limit)

    async def wait_after(self, after: int) -> None:
        """Return once an event newer than ``after`` is in the ring."""
        while self._ring.last_id <= after:
            self._changed.clear()
            await self._changed.wait()


__all__ = ["DEFAULT_CAPACITY", "Backlog", "EventFeed", "Ring"]
