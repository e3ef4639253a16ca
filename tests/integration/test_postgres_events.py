"""The PostgreSQL engine's shared event log on a real server: what only this engine
promises (ids follow commit order, the log keeps the newest events).

The scenarios every server engine shares (a web node following a worker elsewhere, resuming
after an id, waking a follower) are in test_server_events.py. Deadlines only stop a broken
run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from relayarr.jobqueue import Event, EventKind, open_storage
from relayarr.jobqueue.storage import EventLog, Storage
from servers import postgres_server

HANG_GUARD = 60.0  # seconds; only against hanging


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with postgres_server().fresh_database() as fresh:
        yield fresh


def event_log(storage: Storage) -> EventLog:
    assert isinstance(storage, EventLog)
    return storage


def progress(step: int, source: int = 0) -> Event:
    return Event(
        id=0,
        kind=EventKind.PROGRESS,
        at=datetime.now(UTC),
        job_id=None,
        job_type=None,
        data={"step": step, "source": source},
    )


async def test_concurrent_appenders_never_let_a_follower_skip_an_event(url: str) -> None:
    """Ids must follow commit order: if an id could commit after a larger one, a follower
    that already read the larger id would never see it. Four handles append concurrently
    while a follower reads as fast as it can; it must see every event exactly once."""
    appenders = [await open_storage(url) for _ in range(4)]
    reader_storage = await open_storage(url)
    reader = event_log(reader_storage)
    rounds = 150
    try:

        async def append(source: int, storage: Storage) -> None:
            log = event_log(storage)
            for step in range(rounds):
                await log.append_events([progress(step, source), progress(step, source)])

        writing = asyncio.gather(*(append(n, s) for n, s in enumerate(appenders)))
        seen: list[Event] = []
        last = 0
        async with asyncio.timeout(HANG_GUARD):
            while True:
                finished = writing.done()  # looked at before the read: that one is final
                batch = await reader.read_events(last, 1000)
                if batch:
                    last = batch[-1].id
                    seen += batch
                elif finished:
                    break
                else:
                    await asyncio.sleep(0)
            await writing
        assert len(seen) == 2 * rounds * len(appenders), "the follower skipped events"
        assert len({e.id for e in seen}) == len(seen)
        for source in range(len(appenders)):
            steps = [e.data["step"] for e in seen if e.data["source"] == source]
            assert steps == [step for step in range(rounds) for _ in range(2)], "out of order"
    finally:
        for storage in appenders:
            await storage.aclose()
        await reader_storage.aclose()


async def test_the_log_keeps_only_the_newest_events(url: str) -> None:
    storage = await open_storage(f"{url}?event_retention=10")
    try:
        log = event_log(storage)
        for n in range(12):  # trimming runs once 1,000 events were appended by this handle
            await log.append_events([progress(100 * n + k) for k in range(100)])
        remaining = await log.read_events(0, 10_000)
        assert 10 <= len(remaining) < 1200
        assert remaining[-1].id == await log.last_event_id() == 1200
        assert [e.data["step"] for e in remaining][-10:] == list(range(1190, 1200))
    finally:
        await storage.aclose()
