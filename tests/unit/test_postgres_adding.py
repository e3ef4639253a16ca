"""Group commit of the PostgreSQL engine's adds, against a recording fake database: an add
sends its own statement when none is in flight, and the adds that arrive meanwhile share
the next one, each caller getting exactly its own jobs back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from relayarr.jobqueue.errors import StorageError
from relayarr.jobqueue.models import NewJob
from relayarr.jobqueue.storage.postgres import Q
from relayarr.jobqueue.storage.postgres.adding import MERGE_LIMIT, Adder
from relayarr.jobqueue.storage.postgres.connection import Database

NOW = 1_700_000_000.0


class FakeConnection:
    """Answers insert_job / insert_jobs with fresh ids and records each statement."""

    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def fetchval(self, sql: str, *params: Any) -> int:
        assert sql == Q["insert_job"]
        return (await self._statement(1))[0]

    async def fetch(self, sql: str, *params: Any) -> list[tuple[int]]:
        assert sql == Q["insert_jobs"]
        types, created = params[0], params[6]
        assert len(created) == len(types), "every job carries its own created_at"
        return [(job_id,) for job_id in await self._statement(len(types))]

    async def _statement(self, jobs: int) -> list[int]:
        self._db.statements.append(jobs)
        await self._db.gate.wait()  # in flight until the test lets it finish
        if self._db.fail is not None:
            raise self._db.fail
        first = self._db.next_id
        self._db.next_id += jobs
        return list(range(first, first + jobs))


class FakeDatabase:
    def __init__(self) -> None:
        self.statements: list[int] = []  # jobs per statement, in order
        self.next_id = 1
        self.gate = asyncio.Event()
        self.fail: BaseException | None = None

    async def run(self, operation: Callable[[Any], Awaitable[Any]], **_: Any) -> Any:
        return await operation(FakeConnection(self))


def jobs(count: int, tag: str) -> list[NewJob]:
    return [NewJob.create("t", {"tag": tag, "n": n}, now=NOW) for n in range(count)]


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def adder(db: FakeDatabase) -> Adder:
    return Adder(cast(Database, db), Q)


async def turns(count: int = 10) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_a_lone_add_of_one_job_is_one_single_row_statement(
    db: FakeDatabase, adder: Adder
) -> None:
    db.gate.set()
    [added] = await adder.add(jobs(1, "a"), NOW)
    assert db.statements == [1]
    assert (added.job.id, added.job.payload, added.created) == (1, {"tag": "a", "n": 0}, True)


async def test_adds_arriving_while_one_is_in_flight_share_the_next_statement(
    db: FakeDatabase, adder: Adder
) -> None:
    first = asyncio.create_task(adder.add(jobs(1, "first"), NOW))
    await turns()
    assert db.statements == [1], "the first add is sent at once, by itself"
    rest = [asyncio.create_task(adder.add(jobs(n % 3 + 1, f"c{n}"), NOW)) for n in range(10)]
    await turns()
    assert db.statements == [1], "the others wait for the statement in flight"
    db.gate.set()
    results = await asyncio.gather(first, *rest)
    assert db.statements == [1, sum(n % 3 + 1 for n in range(10))]
    for n, added in enumerate(results[1:]):
        assert [a.job.payload for a in added] == [j.payload for j in jobs(n % 3 + 1, f"c{n}")]
    ids = [a.job.id for added in results for a in added]
    assert ids == sorted(ids) == list(range(1, len(ids) + 1))


async def test_a_failed_shared_statement_fails_every_add_in_it_and_the_adder_recovers(
    db: FakeDatabase, adder: Adder
) -> None:
    first = asyncio.create_task(adder.add(jobs(1, "first"), NOW))
    await turns()
    shared = [asyncio.create_task(adder.add(jobs(2, f"s{n}"), NOW)) for n in range(3)]
    await turns()
    db.fail = StorageError("lost")
    db.gate.set()
    outcomes = await asyncio.gather(first, *shared, return_exceptions=True)
    assert all(isinstance(outcome, StorageError) for outcome in outcomes)
    db.fail = None
    assert [a.job.id for a in await adder.add(jobs(2, "later"), NOW)] == [1, 2]


async def test_a_waiting_add_that_is_cancelled_is_left_out(db: FakeDatabase, adder: Adder) -> None:
    first = asyncio.create_task(adder.add(jobs(1, "first"), NOW))
    await turns()
    cancelled = asyncio.create_task(adder.add(jobs(5, "gone"), NOW))
    kept = asyncio.create_task(adder.add(jobs(2, "kept"), NOW))
    await turns()
    cancelled.cancel()
    db.gate.set()
    await first
    assert [a.job.payload["tag"] for a in await kept] == ["kept", "kept"]
    assert db.statements == [1, 2]
    with pytest.raises(asyncio.CancelledError):
        await cancelled


async def test_a_large_add_goes_alone_without_waiting(db: FakeDatabase, adder: Adder) -> None:
    first = asyncio.create_task(adder.add(jobs(1, "first"), NOW))
    await turns()
    large = asyncio.create_task(adder.add(jobs(MERGE_LIMIT + 1, "large"), NOW))
    await turns()
    assert db.statements == [1, MERGE_LIMIT + 1]
    db.gate.set()
    assert len(await large) == MERGE_LIMIT + 1
    await first
    await adder.drain()
