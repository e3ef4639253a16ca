"""The PostgreSQL engine's connection pool, with fake connections (no server needed)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import pytest

from relayarr.jobqueue.errors import StorageUnavailable
from relayarr.jobqueue.storage.postgres import pool as pool_module
from relayarr.jobqueue.storage.postgres.pool import Pool

if TYPE_CHECKING:
    from relayarr.jobqueue.storage.postgres.pool import Connection


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.terminated = False
        self.in_transaction = False

    def is_closed(self) -> bool:
        return self.closed

    def is_in_transaction(self) -> bool:
        return self.in_transaction

    async def close(self) -> None:
        self.closed = True

    def terminate(self) -> None:
        self.closed = self.terminated = True


class Connector:
    """Opens numbered fake connections; can be told to fail."""

    def __init__(self) -> None:
        self.opened: list[FakeConnection] = []
        self.fail_with: BaseException | None = None

    async def __call__(self) -> Connection:
        if self.fail_with is not None:
            raise self.fail_with
        conn = FakeConnection(len(self.opened) + 1)
        self.opened.append(conn)
        return cast("Connection", conn)


def fake(conn: Any) -> FakeConnection:
    assert isinstance(conn, FakeConnection)
    return conn


@pytest.fixture
def connector() -> Connector:
    return Connector()


async def test_a_released_connection_is_reused_instead_of_opening_another(
    connector: Connector,
) -> None:
    pool = Pool(connector, size=3)
    first = await pool.acquire()
    pool.release(first)
    assert await pool.acquire() is first
    assert len(connector.opened) == 1


async def test_no_more_than_size_connections_and_waiters_get_released_ones_in_order(
    connector: Connector,
) -> None:
    pool = Pool(connector, size=2)
    a, b = await pool.acquire(), await pool.acquire()
    waiting = [asyncio.create_task(pool.acquire()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(task.done() for task in waiting)
    pool.release(b)
    pool.release(a)
    assert [await task for task in waiting] == [b, a]
    assert len(connector.opened) == 2


async def settle() -> None:
    """Let background closes run (a few loop turns; nothing here waits on time)."""
    for _ in range(10):
        await asyncio.sleep(0)


@pytest.mark.parametrize("spoilt", ["discarded", "closed", "left-in-a-transaction"])
async def test_a_spoilt_connection_is_dropped_and_its_slot_goes_to_a_waiter(
    connector: Connector, spoilt: str
) -> None:
    pool = Pool(connector, size=1)
    conn = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    if spoilt == "closed":
        fake(conn).closed = True
    elif spoilt == "left-in-a-transaction":
        fake(conn).in_transaction = True
    pool.release(conn, discard=spoilt == "discarded")
    replacement = await asyncio.wait_for(waiting, 5)
    assert replacement is not conn
    assert fake(conn).closed or fake(conn).terminated
    assert len(connector.opened) == 2


async def test_a_failed_connect_frees_its_slot(connector: Connector) -> None:
    pool = Pool(connector, size=1)
    connector.fail_with = OSError("refused")
    with pytest.raises(OSError, match="refused"):
        await pool.acquire()
    connector.fail_with = None
    assert fake(await pool.acquire()).number == 1


async def test_a_cancelled_waiter_does_not_swallow_the_connection(connector: Connector) -> None:
    pool = Pool(connector, size=1)
    conn = await pool.acquire()
    cancelled = asyncio.create_task(pool.acquire())
    after = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    cancelled.cancel()
    pool.release(conn)
    assert await asyncio.wait_for(after, 5) is conn
    with pytest.raises(asyncio.CancelledError):
        await cancelled


async def test_idle_connections_past_their_lifetime_are_closed(
    connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = Pool(connector, size=3)
    old, fresh = await pool.acquire(), await pool.acquire()
    pool.release(old)
    monkeypatch.setattr(pool_module, "IDLE_LIFETIME", -1.0)  # everything idle is now stale
    pool.release(fresh)
    await settle()
    assert fake(old).closed
    assert not fake(fresh).closed
    assert await pool.acquire() is fresh


async def test_close_closes_idle_and_returned_connections_and_refuses_new_work(
    connector: Connector,
) -> None:
    pool = Pool(connector, size=2)
    idle, busy = await pool.acquire(), await pool.acquire()
    pool.release(idle)
    closing = asyncio.create_task(pool.close(timeout=5))
    await settle()
    assert fake(idle).closed
    assert not closing.done(), "close waits for the busy connection"
    pool.release(busy)
    await asyncio.wait_for(closing, 5)
    assert fake(busy).closed
    with pytest.raises(StorageUnavailable, match="closed"):
        await pool.acquire()


async def test_close_cuts_connections_still_out_after_its_timeout(connector: Connector) -> None:
    pool = Pool(connector, size=1)
    busy = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    await pool.close(timeout=0.01)
    assert fake(busy).terminated
    with pytest.raises(StorageUnavailable, match="closed"):
        await waiting
