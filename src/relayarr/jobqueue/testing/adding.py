"""Contract: adding jobs, batches, unique keys and debounce."""

from __future__ import annotations

import asyncio

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.models import Job, JobStatus
from relayarr.jobqueue.storage import StorageEngine
from relayarr.jobqueue.testing.base import (
    LEASE,
    START,
    TYPE_A,
    TYPE_B,
    ContractBase,
    at,
    new_job,
)

FINISHERS = ("complete", "fail", "cancel")


class AddingContract(ContractBase):
    """add(): every field survives, batches are ordered and atomic, unique keys hold."""

    async def test_add_then_get_roundtrips_every_field(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        parent = await self.add_job(storage)
        clock.advance(1)
        payload: dict[str, object] = {
            "path": "/media/Movies/Amélie (2001)/Amélie.mkv",
            "ids": {"tmdb": 194, "imdb": "tt0211915"},
            "mixed": ["a", 1, 2.5, True, None, {"deep": []}],
        }
        job = await self.add_job(
            storage,
            TYPE_B,
            payload,
            priority=2,
            delay=12.5,
            max_attempts=7,
            unique_key="folder:/media/Movies/Amélie (2001)",
            parent_id=parent.id,
        )
        expected = Job(
            id=job.id,
            type=TYPE_B,
            payload=payload,  # type: ignore[arg-type]
            priority=2,
            status=JobStatus.PENDING,
            attempts=0,
            max_attempts=7,
            run_at=at(START + 1 + 12.5),
            created_at=at(START + 1),
            unique_key="folder:/media/Movies/Amélie (2001)",
            parent_id=parent.id,
        )
        assert job == expected
        assert await storage.get(job.id) == expected

    async def test_add_with_explicit_run_at_keeps_it(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        job = await self.add_job(storage, run_at=at(START + 100.25))
        assert job.run_at == at(START + 100.25)
        assert (await storage.get(job.id)).run_at == at(START + 100.25)

    async def test_add_batch_returns_one_result_per_job_in_order(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """Ids grow with insertion order: claim order and newest-first listing rely on it."""
        added = await storage.add([new_job(clock, TYPE_A, {"n": n}) for n in range(5)])
        assert [result.created for result in added] == [True] * 5
        assert [result.job.payload for result in added] == [{"n": n} for n in range(5)]
        ids = [result.job.id for result in added]
        assert ids == sorted(set(ids))
        later = await self.add_job(storage)
        assert later.id > ids[-1]
        assert sorted(await self.ids(storage)) == [*ids, later.id]

    async def test_add_empty_batch_stores_nothing(self, storage: StorageEngine) -> None:
        assert await storage.add([]) == []
        assert await self.ids(storage) == []

    async def test_add_batch_is_seen_whole_or_not_at_all(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """A batch is one transaction: an observer on another handle never sees half of it."""
        size = 2_000
        observer = await self.another_handle(clock)
        seen: set[int] = set()
        adding = asyncio.create_task(
            storage.add([new_job(clock, TYPE_A, {"n": n}) for n in range(size)])
        )
        while not adding.done():
            seen.add((await observer.stats()).count(JobStatus.PENDING))
            await asyncio.sleep(0)  # an engine that never yields must still let the add run
        assert len(await adding) == size
        seen.add((await observer.stats()).count(JobStatus.PENDING))
        assert seen <= {0, size}
        assert size in seen

    # -- unique keys ---------------------------------------------------------------------

    async def test_unique_key_returns_existing_job_and_inserts_nothing(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        first = await self.add_job(storage, payload={"v": 1}, unique_key="k")
        clock.advance(1)
        [again] = await storage.add(
            [new_job(clock, TYPE_A, {"v": 2}, unique_key="k", priority=1, delay=60)]
        )
        assert not again.created
        assert again.job == first, "the existing job is returned unchanged (no debounce)"
        assert await storage.get(first.id) == first
        assert await self.ids(storage) == [first.id]

    async def test_unique_key_held_by_processing_job(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        first = await self.add_job(storage, unique_key="k")
        claimed = await self.claim_one(storage)
        [again] = await storage.add([new_job(clock, unique_key="k")])
        assert not again.created
        assert again.job.id == first.id
        assert again.job.status is JobStatus.PROCESSING
        assert await storage.get(first.id) == claimed

    async def test_unique_key_is_global_across_types(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """DESIGN: "at most one active job per key", so the key is not scoped by type."""
        first = await self.add_job(storage, TYPE_A, unique_key="k")
        [again] = await storage.add([new_job(clock, TYPE_B, unique_key="k")])
        assert not again.created
        assert again.job.id == first.id
        assert again.job.type == TYPE_A

    async def test_unique_key_twice_in_one_batch(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        added = await storage.add(
            [new_job(clock, TYPE_A, {"n": 1}, unique_key="k"), new_job(clock, unique_key="k")]
        )
        assert [result.created for result in added] == [True, False]
        assert added[0].job.id == added[1].job.id
        assert added[1].job.payload == {"n": 1}
        assert await self.ids(storage) == [added[0].job.id]

    async def test_debounce_pushes_run_at_later_never_earlier(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        first = await self.add_job(storage, unique_key="k", delay=5)
        clock.advance(2)
        [pushed] = await storage.add([new_job(clock, unique_key="k", debounce=True, delay=10)])
        assert not pushed.created
        assert pushed.job.id == first.id
        assert pushed.job.run_at == at(START + 12)
        assert (await storage.get(first.id)).run_at == at(START + 12)
        [kept] = await storage.add([new_job(clock, unique_key="k", debounce=True, delay=1)])
        assert not kept.created
        assert kept.job.run_at == at(START + 12)
        assert (await storage.get(first.id)).run_at == at(START + 12)
        clock.advance(9)
        assert await storage.claim("worker-1", [TYPE_A], 1, LEASE) == []
        clock.advance(1)
        assert [job.id for job in await storage.claim("worker-1", [TYPE_A], 1, LEASE)] == [first.id]

    async def test_debounce_of_a_job_added_earlier_in_the_same_batch(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """The second spec pushes back the job the first one made: due now, it must stop
        being due (an engine that writes a batch's indexes at its end must not lose that)."""
        added = await storage.add(
            [new_job(clock, unique_key="k"), new_job(clock, unique_key="k", debounce=True, delay=5)]
        )
        assert [result.created for result in added] == [True, False]
        assert added[1].job.id == added[0].job.id
        assert added[1].job.run_at == at(START + 5)
        assert await storage.claim("worker-1", [TYPE_A], 5, LEASE) == []
        assert await storage.next_due([TYPE_A]) == START + 5
        clock.advance(5)
        claimed = await storage.claim("worker-1", [TYPE_A], 5, LEASE)
        assert [job.id for job in claimed] == [added[0].job.id]
        stats = await storage.stats()
        assert (stats.count(JobStatus.PENDING), stats.count(JobStatus.PROCESSING)) == (0, 1)

    @pytest.mark.parametrize("finish", FINISHERS)
    async def test_unique_key_is_free_once_the_job_leaves_the_active_table(
        self, storage: StorageEngine, clock: FakeClock, finish: str
    ) -> None:
        first = await self.add_job(storage, unique_key="k")
        if finish == "cancel":
            await storage.cancel(first.id)
        else:
            lease = (await self.claim_one(storage)).lease
            if finish == "complete":
                await storage.complete(lease, None)
            else:
                await storage.fail(lease, "boom", None)
        [second] = await storage.add([new_job(clock, unique_key="k")])
        assert second.created
        assert second.job.id != first.id
        assert second.job.status is JobStatus.PENDING
        [third] = await storage.add([new_job(clock, unique_key="k")])
        assert not third.created
        assert third.job.id == second.job.id
