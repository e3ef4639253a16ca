"""Contract: the shared event log of engines with ``capabilities.cross_process_events``.

Engines without it skip these tests visibly (the capability is the branch); engines with it
must be an :class:`~relayarr.jobqueue.storage.EventLog`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.events import Event, EventKind
from relayarr.jobqueue.models import JobId
from relayarr.jobqueue.storage import EventLog, Storage
from relayarr.jobqueue.testing.base import START, TYPE_A, ContractBase


def event(kind: EventKind, job_id: int | None = 1, **data: object) -> Event:
    return Event(
        id=0,
        kind=kind,
        at=datetime.fromtimestamp(START + 0.25, UTC),
        job_id=None if job_id is None else JobId(job_id),
        job_type=TYPE_A if job_id is not None else None,
        data=data,  # type: ignore[arg-type]  # test values are JSON
    )


def event_log(storage: Storage) -> EventLog:
    if not storage.capabilities.cross_process_events:
        pytest.skip(f"{storage.capabilities.engine} keeps no shared event log (capability)")
    assert isinstance(storage, EventLog), "cross_process_events engines must be an EventLog"
    return storage


class EventLogContract(ContractBase):
    async def test_an_empty_log_has_no_events(self, storage: Storage) -> None:
        log = event_log(storage)
        assert await log.last_event_id() == 0
        assert await log.read_events(0, 10) == []

    async def test_events_come_back_in_order_with_growing_ids_and_all_fields(
        self, storage: Storage
    ) -> None:
        log = event_log(storage)
        sent = [
            event(EventKind.ADDED, 1, priority=5),
            event(EventKind.STARTED, 1, attempt=1),
            event(EventKind.BREAKER, None, phase="open", nested={"a": [1, 2.5, None]}),
        ]
        await log.append_events(sent)
        got = await log.read_events(0, 10)
        assert [e.kind for e in got] == [e.kind for e in sent]
        assert [e.data for e in got] == [e.data for e in sent]
        assert [(e.job_id, e.job_type, e.at) for e in got] == [
            (e.job_id, e.job_type, e.at) for e in sent
        ]
        ids = [e.id for e in got]
        assert ids == sorted(ids)
        assert len(set(ids)) == 3
        assert ids[0] > 0
        assert await log.last_event_id() == ids[-1]

    async def test_reading_resumes_after_an_id_and_respects_the_limit(
        self, storage: Storage
    ) -> None:
        log = event_log(storage)
        await log.append_events([event(EventKind.PROGRESS, 1, step=n) for n in range(10)])
        first = await log.read_events(0, 4)
        assert [e.data["step"] for e in first] == [0, 1, 2, 3]
        rest = await log.read_events(first[-1].id, 100)
        assert [e.data["step"] for e in rest] == list(range(4, 10))
        assert await log.read_events(rest[-1].id, 100) == []

    async def test_every_handle_on_the_database_shares_one_log(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        log = event_log(storage)
        other = event_log(await self.another_handle(clock))
        await log.append_events([event(EventKind.ADDED, 1)])
        await other.append_events([event(EventKind.ADDED, 2)])
        await log.append_events([event(EventKind.ADDED, 3)])
        seen_here = [e.job_id for e in await log.read_events(0, 10)]
        seen_there = [e.job_id for e in await other.read_events(0, 10)]
        assert seen_here == seen_there == [1, 2, 3]
