"""Contract: complete, fail, release, cancel and retry move jobs between the two tables."""

from __future__ import annotations

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.errors import InvalidTransition, JobNotFound, LeaseLost
from relayarr.jobqueue.models import JobId, JobQuery, JobStatus, Lease
from relayarr.jobqueue.storage import StorageEngine
from relayarr.jobqueue.testing.base import (
    LEASE,
    START,
    TYPE_A,
    TYPE_B,
    TYPES,
    ContractBase,
    at,
    new_job,
)

HISTORY = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
ACTIVE = (JobStatus.PENDING, JobStatus.PROCESSING)
UNKNOWN = JobId(987_654_321)


class TransitionContract(ContractBase):
    """Every move between statuses, and the ones that must be refused."""

    # -- complete ------------------------------------------------------------------------

    async def test_complete_moves_the_job_to_history(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        job = await self.add_job(storage, payload={"path": "/m"})
        claimed = await self.claim_one(storage)
        clock.advance(3)
        done, follow_ups = await storage.complete(claimed.lease, '{"ok":true,"files":[1,2]}')
        assert follow_ups == []
        assert done.id == job.id
        assert done.status is JobStatus.COMPLETED
        assert done.result == {"ok": True, "files": [1, 2]}
        assert done.finished_at == at(START + 3)
        assert done.started_at == at(START)
        assert done.attempts == 1
        assert done.payload == {"path": "/m"}
        assert await storage.get(job.id) == done
        assert await self.ids(storage, *ACTIVE) == []
        assert await self.ids(storage, JobStatus.COMPLETED) == [job.id]
        assert await storage.lease_owners() == []
        assert await storage.claim("worker-1", TYPES, 10, LEASE) == []

    async def test_complete_without_result_stores_none(self, storage: StorageEngine) -> None:
        await self.add_job(storage)
        claimed = await self.claim_one(storage)
        done, _ = await storage.complete(claimed.lease, None)
        assert done.result is None
        assert (await storage.get(done.id)).result is None

    async def test_complete_adds_follow_ups_with_parent(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        busy = await self.add_job(storage, TYPE_B, unique_key="busy")
        parent = await self.claim_one(storage, types=[TYPE_B])
        assert parent.id == busy.id
        await self.add_job(storage, TYPE_A, unique_key="held")
        clock.advance(1)
        done, added = await storage.complete(
            parent.lease,
            None,
            [
                new_job(clock, TYPE_A, {"step": 2}, parent_id=parent.id, priority=2),
                new_job(clock, TYPE_A, {"step": 3}, parent_id=parent.id, unique_key="held"),
            ],
        )
        assert done.status is JobStatus.COMPLETED
        assert [result.created for result in added] == [True, False]
        child = added[0].job
        assert child.status is JobStatus.PENDING
        assert child.parent_id == parent.id
        assert child.payload == {"step": 2}
        assert child.priority == 2
        assert child.created_at == at(START + 1)
        assert added[1].job.unique_key == "held"
        assert await storage.get(child.id) == child
        children = await self.list_all(storage, JobQuery(parent_id=parent.id))
        assert [job.id for job in children] == [child.id]

    async def test_refused_complete_adds_no_follow_ups(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        await self.add_job(storage)
        claimed = await self.claim_one(storage)
        before = await self.list_all(storage)
        with pytest.raises(LeaseLost):
            await storage.complete(Lease(claimed.id, "forged"), None, [new_job(clock, TYPE_B)])
        assert await self.list_all(storage) == before

    async def test_complete_twice_is_refused(self, storage: StorageEngine) -> None:
        await self.add_job(storage)
        claimed = await self.claim_one(storage)
        done, _ = await storage.complete(claimed.lease, '{"n":1}')
        with pytest.raises(LeaseLost):
            await storage.complete(claimed.lease, '{"n":2}')
        assert await storage.get(claimed.id) == done

    # -- fail and release ----------------------------------------------------------------

    async def test_fail_with_retry_at_returns_the_job_to_pending(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        job = await self.add_job(storage)
        claimed = await self.claim_one(storage)
        clock.advance(2)
        retrying = await storage.fail(claimed.lease, "player busy", START + 62)
        assert retrying.id == job.id
        assert retrying.status is JobStatus.PENDING
        assert retrying.last_error == "player busy"
        assert retrying.run_at == at(START + 62)
        assert retrying.attempts == 1
        assert retrying.finished_at is None
        assert (retrying.lease_owner, retrying.lease_token, retrying.lease_expires_at) == (
            None,
            None,
            None,
        )
        assert await storage.get(job.id) == retrying
        assert await storage.lease_owners() == []
        with pytest.raises(LeaseLost):
            await storage.heartbeat(claimed.lease, LEASE)
        clock.advance(59)
        assert await storage.claim("worker-1", TYPES, 1, LEASE) == []
        clock.advance(1)
        again = await self.claim_one(storage)
        assert (again.id, again.attempts, again.last_error) == (job.id, 2, "player busy")

    async def test_fail_without_retry_moves_the_job_to_history(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        job = await self.add_job(storage)
        claimed = await self.claim_one(storage)
        clock.advance(4)
        failed = await storage.fail(claimed.lease, "file vanished", None)
        assert failed.id == job.id
        assert failed.status is JobStatus.FAILED
        assert failed.last_error == "file vanished"
        assert failed.finished_at == at(START + 4)
        assert failed.attempts == 1
        assert await storage.get(job.id) == failed
        assert await self.ids(storage, *ACTIVE) == []
        assert await self.ids(storage, JobStatus.FAILED) == [job.id]

    async def test_release_returns_the_job_unrun(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        job = await self.add_job(storage, delay=5)
        clock.advance(10)
        claimed = await self.claim_one(storage)
        released = await storage.release(claimed.lease)
        assert released.id == job.id
        assert released.status is JobStatus.PENDING
        assert released.attempts == 0
        assert released.run_at <= at(clock.now())
        assert (released.lease_owner, released.lease_token, released.lease_expires_at) == (
            None,
            None,
            None,
        )
        assert await storage.get(job.id) == released
        again = await self.claim_one(storage)
        assert (again.id, again.attempts) == (job.id, 1)

    async def test_release_for_later_waits_with_its_note(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        job = await self.add_job(storage)
        claimed = await self.claim_one(storage)
        await storage.fail(claimed.lease, "first try failed", clock.now())
        claimed = await self.claim_one(storage)
        assert claimed.attempts == 2
        released = await storage.release(claimed.lease, clock.now() + 60, "mount is down")
        assert (released.status, released.attempts) == (JobStatus.PENDING, 1)
        assert released.last_error == "mount is down"
        assert released.run_at == at(START + 60)
        assert await storage.get(job.id) == released
        assert await storage.claim("w", TYPES, 10, LEASE) == []  # not due yet
        clock.advance(61)
        again = await self.claim_one(storage)
        assert (again.id, again.attempts) == (job.id, 2)
        kept = await storage.release(again.lease, clock.now() + 5)
        assert kept.last_error == "mount is down"  # no note: the earlier one stays

    # -- cancel --------------------------------------------------------------------------

    async def test_cancel_pending_job(self, storage: StorageEngine, clock: FakeClock) -> None:
        job = await self.add_job(storage)
        clock.advance(7)
        cancelled = await storage.cancel(job.id)
        assert cancelled.id == job.id
        assert cancelled.status is JobStatus.CANCELLED
        assert cancelled.finished_at == at(START + 7)
        assert await storage.get(job.id) == cancelled
        assert await self.ids(storage, JobStatus.CANCELLED) == [job.id]
        assert await self.ids(storage, *ACTIVE) == []
        assert await storage.claim("worker-1", TYPES, 1, LEASE) == []

    async def test_cancel_processing_job_voids_its_lease(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        await self.add_job(storage)
        claimed = await self.claim_one(storage)
        cancelled = await storage.cancel(claimed.id)
        assert cancelled.status is JobStatus.CANCELLED
        assert await storage.lease_owners() == []
        with pytest.raises(LeaseLost):
            await storage.heartbeat(claimed.lease, LEASE)
        with pytest.raises(LeaseLost):
            await storage.complete(claimed.lease, None, [new_job(clock, TYPE_B)])
        with pytest.raises(LeaseLost):
            await storage.fail(claimed.lease, "late", clock.now())
        assert await storage.get(claimed.id) == cancelled
        assert await self.ids(storage) == [claimed.id]

    @pytest.mark.parametrize("status", HISTORY)
    async def test_cancel_finished_job_is_refused(
        self, storage: StorageEngine, status: JobStatus
    ) -> None:
        job = await self.make_job_in(storage, status)
        with pytest.raises(InvalidTransition):
            await storage.cancel(job.id)
        assert await storage.get(job.id) == job

    async def test_unknown_ids_raise_job_not_found(self, storage: StorageEngine) -> None:
        with pytest.raises(JobNotFound):
            await storage.get(UNKNOWN)
        with pytest.raises(JobNotFound):
            await storage.cancel(UNKNOWN)
        with pytest.raises(JobNotFound):
            await storage.retry(UNKNOWN)

    # -- retry ---------------------------------------------------------------------------

    @pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.CANCELLED])
    async def test_retry_brings_a_finished_job_back(
        self, storage: StorageEngine, clock: FakeClock, status: JobStatus
    ) -> None:
        """The same job (same id) is pending again and due now, with a fresh start: attempts
        and rescues back to 0 (a poison job retried by hand gets a real second chance)."""
        job = await self.make_job_in(storage, status)
        clock.advance(100)
        retried = await storage.retry(job.id)
        assert retried.id == job.id
        assert retried.status is JobStatus.PENDING
        assert retried.attempts == 0
        assert retried.rescues == 0
        assert retried.finished_at is None
        assert retried.run_at <= at(clock.now())
        assert await storage.get(job.id) == retried
        assert await self.ids(storage, *HISTORY) == []
        assert await self.ids(storage, JobStatus.PENDING) == [job.id]
        again = await self.claim_one(storage)
        assert (again.id, again.attempts) == (job.id, 1)

    @pytest.mark.parametrize("status", [*ACTIVE, JobStatus.COMPLETED])
    async def test_retry_of_a_job_that_did_not_fail_is_refused(
        self, storage: StorageEngine, status: JobStatus
    ) -> None:
        job = await self.make_job_in(storage, status)
        with pytest.raises(InvalidTransition):
            await storage.retry(job.id)
        assert await storage.get(job.id) == job

    async def test_retry_never_breaks_unique_keys(self, storage: StorageEngine) -> None:
        """Retrying a job whose unique key is now held by another active job would leave two
        active jobs with one key; it is refused with InvalidTransition and changes nothing."""
        old = await self.make_job_in(storage, JobStatus.CANCELLED, unique_key="k")
        holder = await self.add_job(storage, unique_key="k")
        with pytest.raises(InvalidTransition):
            await storage.retry(old.id)
        assert await storage.get(old.id) == old
        assert await self.ids(storage, *ACTIVE) == [holder.id]
