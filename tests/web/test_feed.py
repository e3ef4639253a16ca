"""The event ring and the local feed: resuming by id, and counting what fell out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from relayarr.jobqueue import Event, EventKind, JobId, JobQueue, open_storage
from relayarr.web.feed import EventFeed, Ring


def event(event_id: int) -> Event:
    return Event(event_id, EventKind.ADDED, datetime.now(UTC), JobId(event_id), "t")


def test_ring_finds_events_after_an_id_and_forgets_the_oldest() -> None:
    ring = Ring(capacity=3)
    assert (ring.last_id, ring.oldest_id) == (0, 1)
    for event_id in range(1, 8):
        ring.append(event(event_id))
    assert (ring.last_id, ring.oldest_id) == (7, 5)
    assert [e.id for e in ring.since(0, 10)] == [5, 6, 7]
    assert [e.id for e in ring.since(5, 10)] == [6, 7]
    assert [e.id for e in ring.since(5, 1)] == [6]
    assert ring.since(7, 10) == []


def test_ring_handles_gaps_in_ids() -> None:
    ring = Ring(capacity=10)
    for event_id in (3, 4, 9, 12):
        ring.append(event(event_id))
    assert [e.id for e in ring.since(5, 10)] == [9, 12]


def test_ring_compacts_without_losing_order() -> None:
    ring = Ring(capacity=4)
    for event_id in range(1, 1001):
        ring.append(event(event_id))
    assert [e.id for e in ring.since(990, 10)] == [997, 998, 999, 1000]


async def test_local_feed_resumes_and_reports_what_it_lost(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/q.db")
    try:
        queue = JobQueue(storage, strict_types=False)
        feed = EventFeed(queue, capacity=5)
        assert not feed.shared
        for n in range(8):
            await queue.add_job("t", {"n": n})
        assert feed.last_id == 8
        backlog = await feed.backlog(6)
        assert [e.id for e in backlog.events] == [7, 8]
        assert backlog.missed == 0
        lost = await feed.backlog(1)
        assert [e.id for e in lost.events] == [4, 5, 6, 7, 8]
        assert lost.missed == 2  # events 2 and 3 fell out of the ring
        waiter = asyncio.create_task(feed.wait_after(8))
        await asyncio.sleep(0)
        assert not waiter.done()
        await queue.add_job("t", {})
        await asyncio.wait_for(waiter, 1)
        await feed.stop()
    finally:
        await storage.aclose()


async def test_shared_feed_reads_older_events_from_the_log(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/q.db")
    try:
        queue = JobQueue(storage, strict_types=False, share_events=True)
        for n in range(3):
            await queue.add_job("t", {"n": n})
        await queue.flush_events()
        feed = EventFeed(queue, capacity=2)
        assert feed.shared
        await feed.start()  # follows from the log's end: the ring starts empty
        start = feed.last_id
        for n in range(4):
            await queue.add_job("t", {"n": n})
        await queue.flush_events()
        async with asyncio.timeout(5):
            await feed.wait_after(start + 3)
        assert feed.oldest_id == start + 3  # capacity 2: the ring holds the last two
        older = await feed.backlog(0)
        assert [e.id for e in older.events][:3] == [1, 2, 3]  # straight from the log
        assert older.missed == 0
        await feed.stop()
    finally:
        await storage.aclose()
