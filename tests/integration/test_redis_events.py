"""The Redis engine's shared event log (a stream) on a real server: what only this engine
promises (consecutive ids, approximate trimming, its retention option).

The scenarios every server engine shares (a web node following a worker elsewhere, resuming
after an id, waking a follower) are in test_server_events.py. Deadlines only stop a broken
run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from relayarr.jobqueue import Event, EventKind, InvalidURL, open_storage
from relayarr.jobqueue.storage import EventLog, Storage
from servers import redis_server

HANG_GUARD = 60.0  # seconds; only against hanging


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with redis_server().fresh_database() as fresh:
        yield fresh


def event_log(storage: Storage) -> EventLog:
    assert storage.capabilities.cross_process_events
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
    """Each batch is one script, so ids follow the order batches are applied: a follower
    reading as fast as it can while four handles append sees every event exactly once."""
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
        assert [e.id for e in seen] == list(range(1, len(seen) + 1))
        for source in range(len(appenders)):
            steps = [e.data["step"] for e in seen if e.data["source"] == source]
            assert steps == [step for step in range(rounds) for _ in range(2)], "out of order"
    finally:
        for storage in appenders:
            await storage.aclose()
        await reader_storage.aclose()


async def test_the_log_keeps_about_the_newest_events_and_ids_never_go_back(url: str) -> None:
    storage = await open_storage(f"{url}&event_retention=10")
    try:
        log = event_log(storage)
        for n in range(12):
            await log.append_events([progress(100 * n + k) for k in range(100)])
        remaining = await log.read_events(0, 10_000)
        # MAXLEN ~ trims whole stream nodes (100 entries each by default): about 10 stay.
        assert 10 <= len(remaining) < 1200
        assert remaining[-1].id == await log.last_event_id() == 1200
        assert [e.data["step"] for e in remaining][-10:] == list(range(1190, 1200))
        assert remaining[0].id > 1, "nothing was trimmed"
        await log.append_events([progress(-1)])
        assert [e.id for e in await log.read_events(1200, 10)] == [1201]
    finally:
        await storage.aclose()


async def test_a_bad_event_retention_is_refused(url: str) -> None:
    with pytest.raises(InvalidURL, match="event_retention"):
        await open_storage(f"{url}&event_retention=0")
