"""Contract: listing and paging, stats, and pruning of history."""

from __future__ import annotations

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.errors import InvalidTransition, JobNotFound
from relayarr.jobqueue.models import Job, JobId, JobQuery, JobStatus, Page, TypeStats
from relayarr.jobqueue.storage import StorageEngine
from relayarr.jobqueue.testing.base import START, TYPE_A, TYPE_B, ContractBase

PENDING, PROCESSING = JobStatus.PENDING, JobStatus.PROCESSING
COMPLETED, FAILED, CANCELLED = JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED


def newest_first(*jobs: Job) -> list[JobId]:
    return sorted((job.id for job in jobs), reverse=True)


class HistoryContract(ContractBase):
    """list(), stats() and prune()."""

    async def finish_at(
        self, storage: StorageEngine, clock: FakeClock, when: float, status: JobStatus = COMPLETED
    ) -> Job:
        """A job that reaches ``status`` (a history status) at epoch ``when``."""
        clock.set(when)
        return await self.make_job_in(storage, status)

    # -- list ----------------------------------------------------------------------------

    async def test_list_of_empty_storage(self, storage: StorageEngine) -> None:
        assert await storage.list(JobQuery()) == Page(jobs=[], next_cursor=None)

    async def test_list_filters_by_status_type_parent_and_key(self, storage: StorageEngine) -> None:
        processing = await self.make_job_in(storage, PROCESSING, TYPE_A)
        completed = await self.make_job_in(storage, COMPLETED, TYPE_B)
        failed = await self.make_job_in(storage, FAILED, TYPE_A)
        cancelled = await self.make_job_in(storage, CANCELLED, TYPE_B)
        pending_a = await self.add_job(storage, TYPE_A)
        pending_b = await self.add_job(storage, TYPE_B, parent_id=completed.id, unique_key="uk")
        every = (processing, completed, failed, cancelled, pending_a, pending_b)
        cases: list[tuple[JobQuery, list[JobId]]] = [
            (JobQuery(), newest_first(*every)),
            (JobQuery(statuses=[PENDING]), newest_first(pending_a, pending_b)),
            (JobQuery(statuses=[PROCESSING]), [processing.id]),
            (JobQuery(statuses=[COMPLETED]), [completed.id]),
            (JobQuery(statuses=[FAILED]), [failed.id]),
            (JobQuery(statuses=[CANCELLED]), [cancelled.id]),
            (
                JobQuery(statuses=[PENDING, COMPLETED]),
                newest_first(pending_a, pending_b, completed),
            ),
            (JobQuery(statuses=[COMPLETED, FAILED, CANCELLED]), newest_first(*every[1:4])),
            (JobQuery(types=[TYPE_B]), newest_first(completed, cancelled, pending_b)),
            (JobQuery(types=[TYPE_A, TYPE_B]), newest_first(*every)),
            (JobQuery(types=["contract-unknown"]), []),
            (JobQuery(types=[TYPE_A], statuses=[FAILED, PENDING]), newest_first(failed, pending_a)),
            (JobQuery(parent_id=completed.id), [pending_b.id]),
            (JobQuery(unique_key="uk"), [pending_b.id]),
        ]
        for query, expected in cases:
            listed = await self.list_all(storage, query)
            assert [job.id for job in listed] == expected, query
        listed_by_id = {job.id: job for job in await self.list_all(storage)}
        for job in every:
            assert listed_by_id[job.id] == await storage.get(job.id)

    async def test_keyset_paging_covers_every_job_once_newest_first(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        jobs = [await self.add_job(storage, (TYPE_A, TYPE_B)[n % 2]) for n in range(23)]
        for _ in range(5):
            claimed = await self.claim_one(storage)
            await storage.complete(claimed.lease, None)
        for job in jobs[-3:]:
            await storage.cancel(job.id)
        for statuses, expected in (
            ((), newest_first(*jobs)),
            ((PENDING,), newest_first(*jobs[5:-3])),
        ):
            seen: list[JobId] = []
            cursor: JobId | None = None
            for _ in range(len(jobs) + 1):
                page = await storage.list(JobQuery(statuses=statuses, before_id=cursor, limit=4))
                assert len(page.jobs) <= 4
                seen.extend(job.id for job in page.jobs)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert seen == expected

    async def test_last_page_has_no_cursor(self, storage: StorageEngine) -> None:
        """Stricter reading: next_cursor is None exactly when nothing more matches, even
        when the last page is full, so a caller never fetches an empty page."""
        jobs = [await self.add_job(storage) for _ in range(10)]
        first = await storage.list(JobQuery(limit=5))
        assert [job.id for job in first.jobs] == newest_first(*jobs)[:5]
        assert first.next_cursor is not None
        second = await storage.list(JobQuery(limit=5, before_id=first.next_cursor))
        assert [job.id for job in second.jobs] == newest_first(*jobs)[5:]
        assert second.next_cursor is None
        everything = await storage.list(JobQuery(limit=50))
        assert len(everything.jobs) == 10
        assert everything.next_cursor is None

    async def test_paging_is_stable_while_jobs_move_to_history(
        self, storage: StorageEngine
    ) -> None:
        """Ids never change, so a job finishing between two pages is listed exactly once."""
        jobs = [await self.add_job(storage) for _ in range(12)]
        seen: list[JobId] = []
        cursor: JobId | None = None
        for _ in range(len(jobs) + 1):
            page = await storage.list(JobQuery(before_id=cursor, limit=3))
            seen.extend(job.id for job in page.jobs)
            claimed = await storage.claim("worker-1", [TYPE_A], 2, 30)
            for job in claimed:
                await storage.complete(job.lease, None)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == newest_first(*jobs)

    # -- stats ---------------------------------------------------------------------------

    async def test_stats_count_by_type_and_status(self, storage: StorageEngine) -> None:
        await self.make_job_in(storage, PROCESSING, TYPE_A)
        await self.make_job_in(storage, FAILED, TYPE_A)
        await self.make_job_in(storage, COMPLETED, TYPE_B)
        await self.make_job_in(storage, CANCELLED, TYPE_B)
        await self.add_job(storage, TYPE_A)
        await self.add_job(storage, TYPE_A, delay=3600)  # not due yet, still pending
        await self.add_job(storage, TYPE_B)
        stats = await storage.stats()
        assert dict(stats.by_type) == {
            TYPE_A: TypeStats(pending=2, processing=1, failed=1),
            TYPE_B: TypeStats(pending=1, completed=1, cancelled=1),
        }
        assert stats.count(PENDING) == 3
        assert stats.count(CANCELLED) == 1

    async def test_stats_of_empty_storage(self, storage: StorageEngine) -> None:
        stats = await storage.stats()
        assert dict(stats.by_type) == {}
        assert stats.oldest_pending_age is None
        assert stats.finished_last_minute == 0

    async def test_oldest_pending_age_counts_only_due_jobs(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        await self.add_job(storage, TYPE_A)
        clock.advance(10)
        await self.add_job(storage, TYPE_B, delay=100)
        clock.advance(20)
        assert (await storage.stats()).oldest_pending_age == pytest.approx(30)
        await self.claim_one(storage, types=[TYPE_A])
        assert (await storage.stats()).oldest_pending_age is None, "the rest is not due yet"

    async def test_finished_last_minute_uses_the_clock(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """Finished means moved to history (completed, failed or cancelled) in the last 60 s."""
        await self.finish_at(storage, clock, START, COMPLETED)
        await self.finish_at(storage, clock, START + 30, FAILED)
        await self.finish_at(storage, clock, START + 30, CANCELLED)
        await self.add_job(storage)
        assert (await storage.stats()).finished_last_minute == 3
        clock.set(START + 75)
        assert (await storage.stats()).finished_last_minute == 2
        clock.set(START + 100)
        assert (await storage.stats()).finished_last_minute == 0

    # -- prune ---------------------------------------------------------------------------

    async def test_prune_by_age(self, storage: StorageEngine, clock: FakeClock) -> None:
        old = await self.finish_at(storage, clock, START + 10)
        older = await self.finish_at(storage, clock, START + 20, FAILED)
        recent = await self.finish_at(storage, clock, START + 30, CANCELLED)
        assert await storage.prune(older_than=START + 25) == 2
        assert await self.ids(storage) == [recent.id]
        for gone in (old, older):
            with pytest.raises(JobNotFound):
                await storage.get(gone.id)
        assert await storage.prune(older_than=START + 25) == 0

    async def test_prune_keeps_the_newest(self, storage: StorageEngine, clock: FakeClock) -> None:
        jobs = [await self.finish_at(storage, clock, START + 10 * n) for n in range(5)]
        assert await storage.prune(keep=2) == 3
        assert await self.ids(storage) == newest_first(*jobs[-2:])
        assert await storage.prune(keep=2) == 0

    async def test_prune_keeps_the_last_finished_ties_by_id(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """``keep`` counts by finish time, not by id (a job added first may finish last);
        of jobs that finished at the same instant the higher ids are the newer."""
        late = await self.finish_at(storage, clock, START + 30)
        early = await self.finish_at(storage, clock, START + 10)
        tied = [await self.finish_at(storage, clock, START + 20) for _ in range(3)]
        assert await storage.prune(keep=3) == 2
        assert await self.ids(storage) == newest_first(late, tied[1], tied[2])
        assert early.id not in await self.ids(storage)

    async def test_prune_keeps_the_newest_of_the_given_statuses(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        old_failure = await self.finish_at(storage, clock, START + 1, FAILED)
        completed = await self.finish_at(storage, clock, START + 2, COMPLETED)
        new_failure = await self.finish_at(storage, clock, START + 3, FAILED)
        assert await storage.prune(keep=1, statuses=[FAILED]) == 1
        assert await self.ids(storage) == newest_first(completed, new_failure)
        assert old_failure.id not in await self.ids(storage)

    async def test_prune_only_the_given_statuses(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        completed = await self.finish_at(storage, clock, START + 1, COMPLETED)
        await self.finish_at(storage, clock, START + 2, FAILED)
        cancelled = await self.finish_at(storage, clock, START + 3, CANCELLED)
        await self.finish_at(storage, clock, START + 4, FAILED)
        assert await storage.prune(older_than=START + 100, statuses=[FAILED]) == 2
        assert await self.ids(storage) == newest_first(completed, cancelled)

    async def test_prune_reports_progress(self, storage: StorageEngine, clock: FakeClock) -> None:
        """Progress reports are rows deleted: either running totals or per-batch counts."""
        for n in range(7):
            await self.finish_at(storage, clock, START + n)
        reports: list[int] = []
        assert await storage.prune(keep=0, progress=reports.append) == 7
        assert reports
        assert all(isinstance(n, int) and n >= 0 for n in reports)
        assert max(reports) == 7 or sum(reports) == 7
        assert await self.ids(storage) == []

    async def test_prune_never_touches_active_jobs(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        processing = await self.make_job_in(storage, PROCESSING)
        await self.finish_at(storage, clock, START + 1)
        pending = await self.add_job(storage)
        clock.advance(10 * 365 * 86400)
        assert await storage.prune(older_than=clock.now() + 1) == 1
        assert await storage.prune(keep=0) == 0
        assert await self.ids(storage) == newest_first(processing, pending)
        assert await storage.get(processing.id) == processing

    async def test_prune_refuses_bad_arguments_and_deletes_nothing(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        """A negative ``keep`` is a ValueError; an active status is InvalidTransition (active
        jobs are never pruned), checked before anything is deleted."""
        done = await self.finish_at(storage, clock, START + 1)
        with pytest.raises(ValueError, match="keep"):
            await storage.prune(keep=-1)
        for status in (PENDING, PROCESSING):
            with pytest.raises(InvalidTransition):
                await storage.prune(older_than=START + 100, statuses=[COMPLETED, status])
        assert await self.ids(storage) == [done.id]
