"""Contract: claim order, delays, filters, the lease a claim takes, exclusive claims."""

from __future__ import annotations

import asyncio
from collections import Counter

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.models import Job, JobId, JobStatus
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


class ClaimingContract(ContractBase):
    """claim(), next_due() and lease_owners()."""

    async def _order_fixture(self, storage: StorageEngine) -> list[JobId]:
        """Jobs whose claim order exercises every tie-break; returns the expected order."""
        j1 = await self.add_job(storage, priority=5)
        j2 = await self.add_job(storage, priority=1)
        j3 = await self.add_job(storage, priority=5, run_at=at(START - 10))
        j4 = await self.add_job(storage, TYPE_B, priority=5)  # same run_at as j1, larger id
        j5 = await self.add_job(storage, TYPE_B, priority=1, run_at=at(START - 5))
        j6 = await self.add_job(storage, priority=9, run_at=at(START - 1000))
        return [j5.id, j2.id, j3.id, j1.id, j4.id, j6.id]

    async def test_claim_order_is_priority_then_run_at_then_id(
        self, storage: StorageEngine
    ) -> None:
        expected = await self._order_fixture(storage)
        order = [(await self.claim_one(storage)).id for _ in expected]
        assert order == expected
        assert await storage.claim("worker-1", TYPES, 10, LEASE) == []

    async def test_batch_claim_returns_jobs_in_claim_order(self, storage: StorageEngine) -> None:
        """Stricter reading of the Protocol: the returned list is itself in claim order."""
        expected = await self._order_fixture(storage)
        claimed = await storage.claim("worker-1", TYPES, 4, LEASE)
        assert [job.id for job in claimed] == expected[:4]

    async def test_claim_on_empty_storage_returns_nothing(self, storage: StorageEngine) -> None:
        assert await storage.claim("worker-1", TYPES, 10, LEASE) == []

    async def test_delayed_job_is_claimed_once_due_and_not_before(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """Due means run_at <= now: a job due exactly now is claimable, like an undelayed one."""
        job = await self.add_job(storage, delay=10)
        assert await storage.claim("worker-1", TYPES, 10, LEASE) == []
        clock.advance(9)
        assert await storage.claim("worker-1", TYPES, 10, LEASE) == []
        clock.advance(1)
        assert (await self.claim_one(storage)).id == job.id

    async def test_undue_job_does_not_block_due_jobs_behind_it(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        await self.add_job(storage, priority=1, delay=60)
        due = await self.add_job(storage, priority=9)
        assert [job.id for job in await storage.claim("worker-1", TYPES, 10, LEASE)] == [due.id]

    async def test_claim_filters_by_type_and_respects_limit(self, storage: StorageEngine) -> None:
        a_ids = [(await self.add_job(storage, TYPE_A)).id for _ in range(3)]
        b_ids = [(await self.add_job(storage, TYPE_B)).id for _ in range(2)]
        only_b = await storage.claim("worker-1", [TYPE_B], 10, LEASE)
        assert [job.id for job in only_b] == b_ids
        assert await storage.claim("worker-1", ["contract-unknown"], 10, LEASE) == []
        two_a = await storage.claim("worker-1", [TYPE_A], 2, LEASE)
        assert [job.id for job in two_a] == a_ids[:2]
        rest = await storage.claim("worker-1", [TYPE_A, TYPE_B], 5, LEASE)
        assert [job.id for job in rest] == a_ids[2:]

    async def test_claim_takes_a_lease(self, storage: StorageEngine, clock: FakeClock) -> None:
        added = await self.add_job(storage, max_attempts=4)
        other = await self.add_job(storage)
        clock.advance(5)
        job = await self.claim_one(storage, owner="worker-7")
        assert job.id == added.id
        assert job.status is JobStatus.PROCESSING
        assert job.attempts == 1
        assert job.max_attempts == 4
        assert job.started_at == at(START + 5)
        assert job.lease_owner == "worker-7"
        assert job.lease_expires_at == at(START + 5 + LEASE)
        assert isinstance(job.lease_token, str)
        assert job.lease_token
        assert job.lease.token == job.lease_token
        stored = await storage.get(job.id)
        assert stored.status is JobStatus.PROCESSING
        assert stored.attempts == 1
        assert stored.started_at == at(START + 5)
        assert stored.lease_owner == "worker-7"
        assert stored.lease_expires_at == at(START + 5 + LEASE)
        second = await self.claim_one(storage, owner="worker-7")
        assert second.id == other.id
        assert second.lease_token != job.lease_token
        assert await self.ids(storage, JobStatus.PENDING) == []

    async def test_concurrent_claimers_never_share_a_job(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """Many tasks on two handles claim at once: every job is claimed exactly once."""
        total = 120
        added = await storage.add([new_job(clock, TYPES[n % 2], {"n": n}) for n in range(total)])
        handles = [storage, await self.another_handle(clock)]
        start = asyncio.Event()

        async def claimer(index: int) -> list[Job]:
            handle = handles[index % len(handles)]
            mine: list[Job] = []
            await start.wait()
            while batch := await handle.claim(f"worker-{index}", TYPES, 1 + index % 3, LEASE):
                mine.extend(batch)
                await asyncio.sleep(0)
            return mine

        tasks = [asyncio.create_task(claimer(index)) for index in range(16)]
        await asyncio.sleep(0)
        start.set()
        claimed = [job for batch in await asyncio.gather(*tasks) for job in batch]
        counts = Counter(job.id for job in claimed)
        assert [job_id for job_id, n in counts.items() if n > 1] == []
        assert set(counts) == {result.job.id for result in added}
        assert await storage.claim("worker-x", TYPES, total, LEASE) == []
        assert len(await self.ids(storage, JobStatus.PROCESSING)) == total

    async def test_next_due_reports_the_earliest_pending_run_at(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        assert await storage.next_due(TYPES) is None
        await self.add_job(storage, TYPE_A, delay=20)
        await self.add_job(storage, TYPE_B, delay=5)
        assert await storage.next_due([TYPE_A]) == START + 20
        assert await storage.next_due(TYPES) == START + 5
        assert await storage.next_due(["contract-unknown"]) is None
        clock.advance(5)
        await self.claim_one(storage, types=[TYPE_B])
        assert await storage.next_due([TYPE_B]) is None, "processing jobs are not pending"
        clock.advance(30)
        assert await storage.next_due(TYPES) == START + 20, "an overdue job reports its run_at"

    async def test_lease_owners_lists_current_owners(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        assert await storage.lease_owners() == []
        for _ in range(3):
            await self.add_job(storage)
        await self.claim_one(storage, owner="worker-1")
        await self.claim_one(storage, owner="worker-1")
        last = await self.claim_one(storage, owner="worker-2")
        assert sorted(await storage.lease_owners()) == ["worker-1", "worker-2"]
        await storage.complete(last.lease, None)
        assert await storage.lease_owners() == ["worker-1"]
