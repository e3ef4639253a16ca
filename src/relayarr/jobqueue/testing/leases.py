"""Contract: heartbeats, fenced writes, lease expiry, reclaim and poison jobs."""

from __future__ import annotations

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.errors import JobNotFound, LeaseLost
from relayarr.jobqueue.models import JobId, JobStatus, Lease
from relayarr.jobqueue.storage import StorageEngine
from relayarr.jobqueue.testing.base import LEASE, START, TYPE_B, TYPES, ContractBase, at, new_job

FENCED_WRITES = ("heartbeat", "complete", "fail-retry", "fail-final", "release")
"""Every write that takes a lease; each must be refused without the current token."""


async def fenced_write(storage: StorageEngine, write: str, lease: Lease) -> object:
    """Perform one of :data:`FENCED_WRITES` with ``lease``."""
    now = storage.clock.now()
    if write == "heartbeat":
        return await storage.heartbeat(lease, LEASE)
    if write == "complete":
        return await storage.complete(lease, '{"done":true}', [new_job(storage.clock, TYPE_B)])
    if write == "fail-retry":
        return await storage.fail(lease, "boom", now + 10)
    if write == "fail-final":
        return await storage.fail(lease, "boom", None)
    if write == "release":
        return await storage.release(lease)
    raise AssertionError(f"unknown fenced write {write!r}")


class LeaseContract(ContractBase):
    """Only the current lease holder writes; dead and expired leases are rescued, then fail."""

    async def test_heartbeat_extends_the_lease(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        job = await self.add_job(storage)
        claimed = await self.claim_one(storage)
        clock.advance(20)
        expiry = await storage.heartbeat(claimed.lease, LEASE)
        assert expiry == START + 20 + LEASE
        stored = await storage.get(job.id)
        assert stored.lease_expires_at == at(START + 20 + LEASE)
        assert stored.lease_owner == claimed.lease_owner
        assert stored.attempts == 1
        clock.advance(20)  # past the first expiry, inside the extended one
        assert await storage.reclaim([], max_rescues=5) == []
        done, _ = await storage.complete(claimed.lease, None)
        assert done.status is JobStatus.COMPLETED

    @pytest.mark.parametrize("write", FENCED_WRITES)
    async def test_wrong_token_is_refused_and_changes_nothing(
        self, storage: StorageEngine, write: str
    ) -> None:
        await self.add_job(storage)
        claimed = await self.claim_one(storage)
        before = await self.list_all(storage)
        with pytest.raises(LeaseLost):
            await fenced_write(storage, write, Lease(claimed.id, "not-the-token"))
        assert await self.list_all(storage) == before
        assert await storage.get(claimed.id) == claimed
        await storage.heartbeat(claimed.lease, LEASE)  # the real holder still writes

    @pytest.mark.parametrize("write", FENCED_WRITES)
    async def test_stale_token_after_takeover_is_refused(
        self, storage: StorageEngine, clock: FakeClock, write: str
    ) -> None:
        await self.add_job(storage)
        first = await self.claim_one(storage, owner="worker-1")
        clock.advance(LEASE + 0.5)
        [rescued] = await storage.reclaim([], max_rescues=5)
        assert rescued.id == first.id
        second = await self.claim_one(storage, owner="worker-2")
        assert second.id == first.id
        assert second.lease_token != first.lease_token
        before = await self.list_all(storage)
        with pytest.raises(LeaseLost):
            await fenced_write(storage, write, first.lease)
        assert await self.list_all(storage) == before
        assert await storage.get(first.id) == second
        await storage.heartbeat(second.lease, LEASE)

    @pytest.mark.parametrize("write", FENCED_WRITES)
    async def test_expired_lease_is_refused_even_before_reclaim(
        self, storage: StorageEngine, clock: FakeClock, write: str
    ) -> None:
        """LeaseLost means the lease "expired or was taken over": an expired lease no longer
        writes, even while nobody has reclaimed the job yet (stricter reading, documented)."""
        await self.add_job(storage)
        claimed = await self.claim_one(storage)
        clock.advance(LEASE + 0.5)
        before = await self.list_all(storage)
        with pytest.raises(LeaseLost):
            await fenced_write(storage, write, claimed.lease)
        assert await self.list_all(storage) == before

    @pytest.mark.parametrize("write", FENCED_WRITES)
    async def test_lease_on_unknown_job_is_refused(
        self, storage: StorageEngine, write: str
    ) -> None:
        with pytest.raises((LeaseLost, JobNotFound)):
            await fenced_write(storage, write, Lease(JobId(987_654_321), "no-such-lease"))
        assert await self.list_all(storage) == []

    @pytest.mark.parametrize("write", FENCED_WRITES)
    async def test_lease_of_a_pending_job_is_refused(
        self, storage: StorageEngine, clock: FakeClock, write: str
    ) -> None:
        """A lease given up by release() is void: the job is pending and nobody holds it."""
        await self.add_job(storage)
        claimed = await self.claim_one(storage)
        await storage.release(claimed.lease)
        before = await self.list_all(storage)
        with pytest.raises(LeaseLost):
            await fenced_write(storage, write, claimed.lease)
        assert await self.list_all(storage) == before

    # -- reclaim -------------------------------------------------------------------------

    async def test_reclaim_rescues_expired_leases(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """A rescued job is pending and due again; the attempt it was on still counts."""
        job = await self.add_job(storage)
        claimed = await self.claim_one(storage)
        clock.advance(LEASE - 0.5)
        assert await storage.reclaim([], max_rescues=3) == [], "lease still live"
        clock.advance(1)
        [rescued] = await storage.reclaim([], max_rescues=3)
        assert rescued.id == job.id
        assert rescued.status is JobStatus.PENDING
        assert rescued.rescues == 1
        assert rescued.attempts == 1
        assert rescued.lease_owner is None
        assert rescued.lease_token is None
        assert rescued.lease_expires_at is None
        assert rescued.run_at <= at(clock.now())
        assert await storage.get(job.id) == rescued
        assert await storage.reclaim([], max_rescues=3) == [], "pending jobs are left alone"
        with pytest.raises(LeaseLost):
            await storage.complete(claimed.lease, None)
        again = await self.claim_one(storage, owner="worker-2")
        assert again.id == job.id
        assert again.attempts == 2
        assert again.rescues == 1
        assert again.lease_token != claimed.lease_token

    async def test_reclaim_of_dead_owner_leaves_live_leases_alone(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        for _ in range(3):
            await self.add_job(storage)
        dead = await self.claim_one(storage, owner="worker-dead")
        dead_too = await self.claim_one(storage, owner="worker-dead")
        live = await self.claim_one(storage, owner="worker-live")
        clock.advance(1)  # nowhere near expiry
        rescued = await storage.reclaim(["worker-dead", "worker-never-seen"], max_rescues=3)
        assert sorted(job.id for job in rescued) == sorted([dead.id, dead_too.id])
        assert all(job.status is JobStatus.PENDING and job.rescues == 1 for job in rescued)
        assert await storage.get(live.id) == live
        assert await storage.lease_owners() == ["worker-live"]
        done, _ = await storage.complete(live.lease, None)
        assert done.status is JobStatus.COMPLETED
        with pytest.raises(LeaseLost):
            await storage.heartbeat(dead.lease, LEASE)

    @pytest.mark.parametrize("max_rescues", [0, 2])
    async def test_job_rescued_too_often_fails_as_poison(
        self, storage: StorageEngine, clock: FakeClock, max_rescues: int
    ) -> None:
        """A job may be rescued ``max_rescues`` times; the rescue that would exceed that
        fails it into history instead, with a last_error that says why."""
        job = await self.add_job(storage, max_attempts=50)
        for rescue in range(1, max_rescues + 1):
            await self.claim_one(storage)
            clock.advance(LEASE + 0.5)
            [rescued] = await storage.reclaim([], max_rescues=max_rescues)
            assert (rescued.status, rescued.rescues) == (JobStatus.PENDING, rescue)
        await self.claim_one(storage)
        clock.advance(LEASE + 0.5)
        [poisoned] = await storage.reclaim([], max_rescues=max_rescues)
        assert poisoned.id == job.id
        assert poisoned.status is JobStatus.FAILED
        assert poisoned.finished_at == at(clock.now())
        assert poisoned.last_error
        assert any(word in poisoned.last_error.lower() for word in ("poison", "rescue", "lease"))
        assert await storage.get(job.id) == poisoned
        assert await self.ids(storage, JobStatus.FAILED) == [job.id]
        assert await self.ids(storage, JobStatus.PENDING, JobStatus.PROCESSING) == []
        assert await storage.claim("worker-1", TYPES, 1, LEASE) == []

    async def test_rescue_of_the_last_allowed_attempt_fails_the_job(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """The lost run counted as an attempt; when it was the last one allowed, running the
        job again would exceed max_attempts, so the rescue fails it into history instead."""
        job = await self.add_job(storage, max_attempts=2)
        await self.claim_one(storage)
        clock.advance(LEASE + 0.5)
        [rescued] = await storage.reclaim([], max_rescues=10)
        assert (rescued.status, rescued.attempts) == (JobStatus.PENDING, 1)
        await self.claim_one(storage)
        clock.advance(LEASE + 0.5)
        [failed] = await storage.reclaim([], max_rescues=10)
        assert failed.id == job.id
        assert failed.status is JobStatus.FAILED
        assert failed.attempts == 2
        assert failed.last_error
        assert await storage.get(job.id) == failed
        assert await storage.claim("worker-1", TYPES, 1, LEASE) == []
