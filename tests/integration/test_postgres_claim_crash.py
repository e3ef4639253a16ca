"""A claim lost in a PostgreSQL crash is a lost lease, nothing worse (docs/pgclaim.md).

Claims commit without waiting for their WAL flush; every other write still waits. These
tests crash a real server while a commit is in its WAL buffers only: the WAL writer is
stopped (SIGSTOP) first, so nothing writes the buffers out behind the test's back, and then
killed (SIGKILL). The postmaster takes that for a crash: every server process quits at once,
shared memory (the unwritten WAL with it) is thrown away, and the server recovers from the
WAL on disk, as after a power cut. The server is the module's own, with autovacuum and the
background writer's page writes off, since either could flush the WAL meanwhile.

Deadlines only stop a broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from relayarr.jobqueue.errors import LeaseLost
from relayarr.jobqueue.models import Job, JobId, JobQuery, JobStatus, Lease, NewJob
from relayarr.jobqueue.storage import StorageEngine, open_storage
from servers import PostgresServer, PostgresServerError

pytestmark = pytest.mark.slow

HANG_GUARD = 60.0  # seconds; only against hanging
QUIET = {
    "autovacuum": "off",  # a vacuum's commit would flush the WAL
    "bgwriter_lru_maxpages": "0",  # writing a dirty page flushes the WAL up to it first
    "checkpoint_timeout": "1h",
    "restart_after_crash": "on",
}


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    own = PostgresServer(QUIET)
    try:
        own.start()
    except PostgresServerError as exc:
        pytest.fail(f"cannot start the crash test's PostgreSQL server: {exc}", pytrace=False)
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture
async def url(server: PostgresServer) -> AsyncIterator[str]:
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


async def walwriter(server: PostgresServer) -> int:
    admin = await server.admin()
    try:
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'"
        )
    finally:
        await admin.close()
    assert isinstance(pid, int), "the server runs no WAL writer"
    return pid


@contextlib.asynccontextmanager
async def unwritten_wal(server: PostgresServer) -> AsyncIterator[None]:
    """Inside: WAL that no commit flushed stays in the server's memory. Leaving it crashes
    the server and waits for its recovery (an error inside resumes the writer instead)."""
    pid = await walwriter(server)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    except BaseException:
        os.kill(pid, signal.SIGCONT)
        raise
    os.kill(pid, signal.SIGKILL)
    await asyncio.wait_for(recovered(server, pid), HANG_GUARD)


async def recovered(server: PostgresServer, old_walwriter: int) -> None:
    """Wait until the server answers again after the crash (a new WAL writer runs)."""
    while True:
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            if await walwriter(server) != old_walwriter:
                return
        await asyncio.sleep(0.05)


async def flushed(server: PostgresServer) -> bool:
    """Whether all the WAL written so far is on disk."""
    admin = await server.admin()
    try:
        return bool(
            await admin.fetchval("SELECT pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn()")
        )
    finally:
        await admin.close()


async def one_job(storage: StorageEngine) -> JobId:
    [added] = await storage.add([NewJob.create("t", {"n": 1}, now=storage.clock.now())])
    return added.job.id


async def history(storage: StorageEngine) -> list[Job]:
    terminal = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
    return list((await storage.list(JobQuery(statuses=terminal))).jobs)


async def assert_fenced(storage: StorageEngine, lease: Lease) -> None:
    """Every write under ``lease`` is refused and changes nothing."""
    before = await storage.get(lease.job_id)
    with pytest.raises(LeaseLost):
        await storage.heartbeat(lease, 30.0)
    with pytest.raises(LeaseLost):
        await storage.complete(lease, '"done by the first worker"')
    with pytest.raises(LeaseLost):
        await storage.fail(lease, "failed by the first worker", retry_at=None)
    with pytest.raises(LeaseLost):
        await storage.fail(lease, "retried by the first worker", retry_at=storage.clock.now())
    with pytest.raises(LeaseLost):
        await storage.release(lease)
    assert await storage.get(lease.job_id) == before


async def test_a_claim_lost_in_a_crash_leaves_its_job_pending_and_its_lease_fenced(
    server: PostgresServer, url: str
) -> None:
    first = await open_storage(url)
    try:
        job_id = await one_job(first)
        async with unwritten_wal(server):
            [claimed] = await first.claim("first", ["t"], 1, 30.0)
            assert not await flushed(server), "the claim waited for its WAL flush"
            await first.aclose()
    finally:
        await first.aclose()

    after = await open_storage(url)
    try:
        job = await after.get(job_id)
        assert job.status is JobStatus.PENDING, f"the claim survived the crash: {job}"
        assert (job.attempts, job.lease_owner, job.lease_token) == (0, None, None)
        await assert_fenced(after, claimed.lease)

        [again] = await after.claim("second", ["t"], 1, 30.0)
        assert (again.id, again.attempts, again.lease_owner) == (job_id, 1, "second")
        await after.complete(again.lease, '"done by the second worker"')
        with pytest.raises(LeaseLost):
            await after.complete(claimed.lease, '"done by the first worker"')
        [done] = await history(after)
        assert (done.id, done.status, done.result) == (
            job_id,
            JobStatus.COMPLETED,
            "done by the second worker",
        )
    finally:
        await after.aclose()


async def test_a_durable_write_after_claims_carries_them_through_a_crash(
    server: PostgresServer, url: str
) -> None:
    """The WAL is flushed in order: a completion that returned has flushed every claim
    committed before it, its own job's and another's."""
    first = await open_storage(url)
    try:
        one, other = await one_job(first), await one_job(first)
        async with unwritten_wal(server):
            claimed = {job.id: job for job in await first.claim("first", ["t"], 2, 30.0)}
            await first.complete(claimed[one].lease, '"done"')
            assert await flushed(server)
            await first.aclose()
    finally:
        await first.aclose()

    after = await open_storage(url)
    try:
        [done] = await history(after)
        assert (done.id, done.status, done.result) == (one, JobStatus.COMPLETED, "done")
        held = await after.get(other)
        assert (held.status, held.lease_owner) == (JobStatus.PROCESSING, "first")
        await after.heartbeat(claimed[other].lease, 30.0)  # the lease is still good
    finally:
        await after.aclose()


async def test_every_write_but_the_claim_waits_for_its_flush(
    server: PostgresServer, url: str
) -> None:
    """Adds (a webhook is answered only once its job is on disk), completions, failures,
    releases and heartbeats survive a crash that follows them at once."""
    storage = await open_storage(url)
    try:
        now = storage.clock.now()
        await storage.add([NewJob.create("t", {"n": n}, now=now) for n in range(5)])
        jobs = sorted(await storage.claim("w", ["t"], 5, 30.0), key=lambda job: job.id)
        async with unwritten_wal(server):
            added = await one_job(storage)
            await storage.complete(jobs[0].lease, None)
            await storage.fail(jobs[1].lease, "gave up", retry_at=None)
            await storage.fail(jobs[2].lease, "try again", retry_at=now + 3600)
            await storage.release(jobs[3].lease, run_at=now + 3600)
            expires = await storage.heartbeat(jobs[4].lease, 600.0)
            assert await flushed(server)
            await storage.aclose()
    finally:
        await storage.aclose()

    after = await open_storage(url)
    try:
        assert (await after.get(added)).status is JobStatus.PENDING
        statuses = [(await after.get(job.id)).status for job in jobs]
        assert statuses == [
            JobStatus.COMPLETED,
            JobStatus.FAILED,
            JobStatus.PENDING,
            JobStatus.PENDING,
            JobStatus.PROCESSING,
        ]
        later = [await after.get(job.id) for job in jobs[2:4]]
        assert [job.run_at.timestamp() for job in later] == pytest.approx([now + 3600] * 2)
        beaten = await after.get(jobs[4].id)
        assert beaten.lease_expires_at is not None
        assert beaten.lease_expires_at.timestamp() == pytest.approx(expires)
    finally:
        await after.aclose()
