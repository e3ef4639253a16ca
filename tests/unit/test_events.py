"""The in-process event bus: ordering, filtering, slow subscribers, listeners."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

import pytest

from relayarr.jobqueue import Event, EventBus, EventKind, FakeClock, JobId, Subscription


def test_nothing_is_built_without_listeners() -> None:
    bus = EventBus()
    assert not bus.active
    assert bus.publish(EventKind.ADDED, JobId(1), "t") is None


async def test_subscribers_get_every_event_in_order_with_growing_ids() -> None:
    clock = FakeClock(1_700_000_000.0)
    bus = EventBus(clock)
    async with bus.subscribe() as events:
        bus.publish(EventKind.ADDED, JobId(1), "scan", {"priority": 2})
        bus.publish(EventKind.STARTED, JobId(1), "scan")
        first = await anext(events)
        second = await anext(events)
    assert (first.id, first.kind, first.job_id, first.job_type) == (1, EventKind.ADDED, 1, "scan")
    assert first.data == {"priority": 2}
    assert first.at == datetime.fromtimestamp(1_700_000_000.0, UTC)
    assert (second.id, second.kind) == (2, EventKind.STARTED)


async def test_a_waiting_subscriber_wakes_on_publish() -> None:
    bus = EventBus()
    events = bus.subscribe()
    waiter = asyncio.create_task(anext(events))
    await asyncio.sleep(0)
    assert not waiter.done()
    bus.publish(EventKind.COMPLETED, JobId(3), "t")
    assert (await waiter).job_id == 3


async def test_kinds_filter() -> None:
    bus = EventBus()
    events = bus.subscribe(kinds={EventKind.FAILED})
    bus.publish(EventKind.STARTED, JobId(1), "t")
    bus.publish(EventKind.FAILED, JobId(1), "t")
    event = events.get_nowait()
    assert event is not None
    assert event.kind is EventKind.FAILED
    assert events.get_nowait() is None


def test_a_slow_subscriber_drops_the_oldest_and_counts_them() -> None:
    bus = EventBus()
    slow = bus.subscribe(maxsize=3)
    fast = bus.subscribe()
    for n in range(10):
        bus.publish(EventKind.PROGRESS, JobId(n), "t")
    kept = list(iter(slow.get_nowait, None))
    assert [event.job_id for event in kept] == [7, 8, 9]
    assert slow.missed == 7
    assert len(list(iter(fast.get_nowait, None))) == 10
    assert fast.missed == 0


async def test_closing_ends_iteration_after_the_buffer() -> None:
    bus = EventBus()
    events = bus.subscribe()
    bus.publish(EventKind.ADDED, JobId(1), "t")
    events.close()
    bus.publish(EventKind.ADDED, JobId(2), "t")  # after close: not delivered
    assert [event.job_id async for event in events] == [1]
    assert events.closed
    assert not bus.active


async def test_close_wakes_a_waiting_iteration() -> None:
    bus = EventBus()
    events = bus.subscribe()
    collected = asyncio.create_task(_collect(events))
    await asyncio.sleep(0)
    events.close()
    assert await collected == []


async def _collect(events: Subscription) -> list[Event]:
    return [event async for event in events]


def test_listeners_are_called_and_their_errors_contained(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    bus.add_listener(broken)
    bus.add_listener(seen.append)
    with caplog.at_level(logging.ERROR, logger="relayarr.jobqueue.events"):
        bus.publish(EventKind.RECOVERED, JobId(5), "t")
    assert [event.job_id for event in seen] == [5]
    assert "event listener failed" in caplog.text
    bus.remove_listener(seen.append)
    bus.remove_listener(broken)
    bus.remove_listener(broken)  # unknown: ignored
    assert not bus.active


def test_events_serialise_to_json() -> None:
    bus = EventBus(FakeClock(0.0))
    bus.add_listener(lambda event: None)
    event = bus.publish(EventKind.BREAKER, None, "notify", {"phase": "open", "reopen_at": 30.0})
    assert event is not None
    assert json.loads(json.dumps(event.to_dict())) == {
        "id": 1,
        "kind": "breaker",
        "at": "1970-01-01T00:00:00+00:00",
        "job_id": None,
        "job_type": "notify",
        "data": {"phase": "open", "reopen_at": 30.0},
    }


def test_buffer_size_is_checked() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EventBus().subscribe(maxsize=0)
