"""The in-process event bus: what happened to which job, for dashboards and metrics.

Publishing never blocks and never fails the queue: each subscriber has a bounded buffer,
and a subscriber that falls behind loses its oldest events (and is told how many) instead
of slowing the workers down. Listeners are plain callables run inline; one that raises is
logged and skipped.

>>> async with queue.events.subscribe() as events:  # doctest: +SKIP
...     async for event in events:
...         print(event.id, event.kind, event.job_id)
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType

from relayarr.jobqueue.clock import Clock, SystemClock
from relayarr.jobqueue.models import JobId, JSONValue

logger = logging.getLogger(__name__)

DEFAULT_BUFFER = 1000


class EventKind(StrEnum):
    """What happened. ``breaker`` events carry a breaker's name in ``job_type``."""

    ADDED = "added"
    STARTED = "started"
    PROGRESS = "progress"
    COMPLETED = "completed"
    RETRYING = "retrying"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RECOVERED = "recovered"
    BREAKER = "breaker"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened. ``id`` grows by one per published event of a bus, so a gap
    seen by a subscriber is exactly what it missed."""

    id: int
    kind: EventKind
    at: datetime
    job_id: JobId | None
    job_type: str | None
    data: Mapping[str, JSONValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSONValue]:
        """A JSON-ready mapping (for a WebSocket or a log line)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "at": self.at.isoformat(),
            "job_id": self.job_id,
            "job_type": self.job_type,
            "data": dict(self.data),
        }


Listener = Callable[[Event], object]


class Subscription:
    """An async iterator over a bus's events, from the moment it subscribed.

    Use it as an (async) context manager, or call :meth:`close`, to stop receiving.
    ``missed`` counts the events dropped because this subscriber was too slow.
    """

    def __init__(self, bus: EventBus, maxsize: int, kinds: Collection[EventKind] | None) -> None:
        if maxsize < 1:
            raise ValueError(f"subscription buffer must hold at least 1 event, got {maxsize}")
        self._bus = bus
        self._buffer: deque[Event] = deque()
        self._maxsize = maxsize
        self._kinds = frozenset(kinds) if kinds is not None else None
        self._ready = asyncio.Event()
        self._closed = False
        self.missed = 0

    def _push(self, event: Event) -> None:
        if self._kinds is not None and event.kind not in self._kinds:
            return
        if len(self._buffer) >= self._maxsize:
            self._buffer.popleft()
            self.missed += 1
        self._buffer.append(event)
        self._ready.set()

    def get_nowait(self) -> Event | None:
        """The next buffered event, or None when the buffer is empty."""
        if not self._buffer:
            return None
        return self._buffer.popleft()

    def close(self) -> None:
        """Stop receiving; a waiting iteration ends after the buffer is drained."""
        if not self._closed:
            self._closed = True
            self._bus._unsubscribe(self)
            self._ready.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        while not self._buffer:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._buffer.popleft()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventBus:
    """Fans events out to subscriptions and listeners of this process."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Listener] = []
        self._last_id = 0

    @property
    def active(self) -> bool:
        """True when someone listens; publishers may skip building events otherwise."""
        return bool(self._subscriptions or self._listeners)

    def subscribe(
        self, *, maxsize: int = DEFAULT_BUFFER, kinds: Collection[EventKind] | None = None
    ) -> Subscription:
        """Start receiving events (all, or only ``kinds``) in a buffer of ``maxsize``."""
        subscription = Subscription(self, maxsize, kinds)
        self._subscriptions.append(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event)`` inline for every event; it must be quick and not block."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(
        self,
        kind: EventKind,
        job_id: JobId | None = None,
        job_type: str | None = None,
        data: Mapping[str, JSONValue] | None = None,
    ) -> Event | None:
        """Build and deliver one event; returns None (and builds nothing) when nobody listens."""
        if not self._subscriptions and not self._listeners:
            return None
        self._last_id += 1
        event = Event(
            id=self._last_id,
            kind=kind,
            at=datetime.fromtimestamp(self._clock.now(), UTC),
            job_id=job_id,
            job_type=job_type,
            data=data if data is not None else {},
        )
        for subscription in tuple(self._subscriptions):
            subscription._push(event)
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                # A broken listener must never fail a job or the dispatcher.
                logger.exception(
                    "event listener failed",
                    extra={"service": "jobqueue", "operation": "publish", "kind": kind.value},
                )
        return event


__all__ = ["Event", "EventBus", "EventKind", "Listener", "Subscription"]
