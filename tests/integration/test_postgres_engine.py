"""What the PostgreSQL engine does beyond the shared contract, against a real server:
migrations under concurrency, the claim's index, NOTIFY wake-ups, and lost connections.

Deadlines only stop a broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import asyncpg
import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.errors import StorageError, StorageUnavailable
from relayarr.jobqueue.models import BreakerState, JobStatus, NewJob
from relayarr.jobqueue.storage import StorageEngine, open_storage
from relayarr.jobqueue.storage.postgres import Q
from relayarr.jobqueue.storage.postgres.migrate import LATEST
from servers import PostgresServer, postgres_server

HANG_GUARD = 60.0  # seconds; only against hanging


@pytest.fixture
async def url() -> AsyncIterator[str]:
    server = postgres_server()
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def server() -> PostgresServer:
    return postgres_server()


async def admin_for(server: PostgresServer, url: str) -> asyncpg.Connection[asyncpg.Record]:
    return await server.admin(url.rsplit("/", 1)[1])


async def test_unmigrated_database_is_refused_without_create(url: str) -> None:
    with pytest.raises(StorageUnavailable, match="relayarr migrate"):
        await open_storage(url, create=False)


async def test_concurrent_migrators_apply_each_migration_once(
    url: str, server: PostgresServer
) -> None:
    storages = await asyncio.wait_for(
        asyncio.gather(*(open_storage(url) for _ in range(6))), HANG_GUARD
    )
    try:
        await storages[0].migrate()  # and again: nothing left to do
        admin = await admin_for(server, url)
        try:
            versions = [
                row[0] for row in await admin.fetch("SELECT version FROM jobqueue_migrations")
            ]
        finally:
            await admin.close()
        assert sorted(versions) == list(range(1, LATEST + 1))
        reopened = await open_storage(url, create=False)
        await reopened.aclose()
    finally:
        for storage in storages:
            await storage.aclose()


async def test_claim_walks_the_pending_index(url: str, server: PostgresServer) -> None:
    """The claim must not scan the table: with history and running jobs around, the plan
    reads the partial index of pending jobs in claim order."""
    clock = FakeClock()
    storage = await open_storage(url, clock=clock)
    try:
        now = clock.now()
        await storage.add([NewJob.create("t", {"n": n}, now=now) for n in range(3000)])
        for job in await storage.claim("w", ["t"], 500, 30.0):
            await storage.complete(job.lease, None)
        admin = await admin_for(server, url)
        try:
            await admin.execute("ANALYZE")
            plan = "\n".join(
                row[0]
                for row in await admin.fetch(
                    "EXPLAIN SELECT id FROM job_queue WHERE status = 'pending' AND run_at <= $1 "
                    "AND type = ANY($2::text[]) ORDER BY priority, run_at, id LIMIT 10 "
                    "FOR UPDATE SKIP LOCKED",
                    now,
                    ["t"],
                )
            )
        finally:
            await admin.close()
        assert "job_queue_claim" in plan, plan
    finally:
        await storage.aclose()


async def test_an_add_elsewhere_wakes_a_waiting_handle(url: str) -> None:
    waiter, adder = await open_storage(url), await open_storage(url)
    watch = waiter.watch_changes()
    try:
        # The first wait opens the listening connection, and returns once it listens.
        await asyncio.wait_for(watch.wait(3600), HANG_GUARD)
        waiting = asyncio.create_task(watch.wait(3600))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await adder.add([NewJob.create("t", {}, now=adder.clock.now())])
        await asyncio.wait_for(waiting, HANG_GUARD)  # only a notification ends it early
    finally:
        await waiter.aclose()
        await adder.aclose()


async def test_a_waiter_cancelled_while_connecting_leaves_the_listener_connecting(
    url: str,
) -> None:
    """A worker woken in-process cancels its wait; the connection attempt that wait started
    must go on, or the handle would only poll until the next attempt."""
    waiter, adder = await open_storage(url), await open_storage(url)
    watch = waiter.watch_changes()
    try:
        first = asyncio.create_task(watch.wait(3600))
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        # Only the listener, connecting on, ends this wait (it looks once more on connect).
        await asyncio.wait_for(watch.wait(3600), HANG_GUARD)
        waiting = asyncio.create_task(watch.wait(3600))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await adder.add([NewJob.create("t", {}, now=adder.clock.now())])
        await asyncio.wait_for(waiting, HANG_GUARD)
    finally:
        await waiter.aclose()
        await adder.aclose()


async def _lock_row(
    server: PostgresServer, url: str, job_id: int
) -> asyncpg.Connection[asyncpg.Record]:
    """Hold the job's row lock so that a write to it waits (until _terminate_lock_waiters
    ends the writer's connection, as a restart would). Returns the admin connection, in
    its transaction."""
    admin = await admin_for(server, url)
    await admin.execute("BEGIN")
    await admin.execute("SELECT 1 FROM job_queue WHERE id = $1 FOR UPDATE", job_id)
    return admin


async def _terminate_lock_waiters(admin: asyncpg.Connection[asyncpg.Record]) -> None:
    for _ in range(int(HANG_GUARD / 0.01)):
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if killed:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the write never waited for the lock")


async def test_a_write_cut_off_mid_commit_fails_clearly_and_changes_nothing(
    url: str, server: PostgresServer
) -> None:
    storage = await open_storage(url)
    try:
        [added] = await storage.add([NewJob.create("t", {}, now=storage.clock.now())])
        [job] = await storage.claim("w", ["t"], 1, 300.0)
        admin = await _lock_row(server, url, added.job.id)
        try:
            failing = asyncio.create_task(storage.fail(job.lease, "boom", storage.clock.now() + 5))
            await _terminate_lock_waiters(admin)
            with pytest.raises(StorageError, match="may or may not have been applied") as caught:
                await asyncio.wait_for(failing, HANG_GUARD)
            assert "relayarr-test-secret" not in str(caught.value)
        finally:
            await admin.execute("ROLLBACK")
            await admin.close()
        assert await storage.get(job.id) == job, "the interrupted write left a trace"
    finally:
        await storage.aclose()


async def test_a_completion_cut_off_mid_commit_is_looked_up_then_run_again(
    url: str, server: PostgresServer
) -> None:
    storage = await open_storage(url)
    try:
        [added] = await storage.add([NewJob.create("t", {}, now=storage.clock.now())])
        [job] = await storage.claim("w", ["t"], 1, 300.0)
        admin = await _lock_row(server, url, added.job.id)
        try:
            completing = asyncio.create_task(storage.complete(job.lease, '{"ok":true}'))
            await _terminate_lock_waiters(admin)
        finally:
            await admin.execute("ROLLBACK")
            await admin.close()
        done, _ = await asyncio.wait_for(completing, HANG_GUARD)
        assert (done.status, done.result) == (JobStatus.COMPLETED, {"ok": True})
        assert await storage.get(job.id) == done
    finally:
        await storage.aclose()


async def test_a_transaction_whose_connection_dies_is_run_again(
    url: str, server: PostgresServer
) -> None:
    """update_breaker is a transaction: the connection dies before COMMIT, nothing was
    applied, so the engine runs it again (calling the pure transition again)."""
    storage: StorageEngine = await open_storage(url)
    calls: list[BreakerState | None] = []
    name = url.rsplit("/", 1)[1]

    def transition(current: BreakerState | None) -> BreakerState:
        calls.append(current)
        if len(calls) == 1:  # kill our own connection while the transaction is open
            server.psql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND state = 'idle in transaction'"  # our own name
            )
        return dataclasses.replace(current or BreakerState(name="b"), failures=1)

    try:
        state = await asyncio.wait_for(storage.update_breaker("b", transition), HANG_GUARD)
        assert state is not None
        assert state.failures == 1
        assert calls == [None, None], "the first attempt must not have committed"
        assert await storage.breakers() == [state]
    finally:
        await storage.aclose()


@pytest.mark.parametrize("write", ["heartbeat", "finish_leased"])
async def test_reclaim_leaves_alone_a_job_whose_worker_writes_meanwhile(
    url: str, server: PostgresServer, write: str
) -> None:
    """A worker on another machine heartbeats or completes its job just before the lease
    runs out; its transaction has not committed when a sweeper sees the lease expired.
    The sweeper decides only on rows it could lock, so it skips that job, and the
    worker's write stands."""
    clock = FakeClock()
    storage = await open_storage(url, clock=clock)
    try:
        [added] = await storage.add([NewJob.create("t", {}, now=clock.now())])
        [job] = await storage.claim("w", ["t"], 1, 30.0)
        before_expiry = clock.now() + 20.0
        admin = await admin_for(server, url)
        try:
            await admin.execute("BEGIN")
            if write == "heartbeat":
                params: tuple[object, ...] = (before_expiry + 300.0, job.id, job.lease.token)
            else:
                params = ([job.id], [job.lease.token], ['"done"'], None, "completed")
            await admin.execute(Q[write], *params, before_expiry)
            clock.advance(60.0)  # the lease as the sweeper reads it has run out
            rescued = await asyncio.wait_for(storage.reclaim(["w"], 5), HANG_GUARD)
            assert rescued == [], "reclaim decided on a row another transaction holds"
            await admin.execute("COMMIT")
        finally:
            await admin.close()
        assert await storage.reclaim([], 5) == []
        after = await storage.get(added.job.id)
        if write == "heartbeat":
            assert (after.status, after.lease_token) == (JobStatus.PROCESSING, job.lease.token)
            assert after.rescues == 0
        else:
            assert (after.status, after.result) == (JobStatus.COMPLETED, "done")
    finally:
        await storage.aclose()
