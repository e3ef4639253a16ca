"""The fixtures and helpers every part of the storage contract shares.

An engine plugs in by implementing one hook, :meth:`ContractBase.make_storage`. Everything
else (a fake clock, the storage handle, its clean-up) is provided here, so every test reads
the same on every engine.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import TypedDict, Unpack

import pytest

from relayarr.jobqueue.clock import Clock, FakeClock
from relayarr.jobqueue.models import (
    Job,
    JobId,
    JobQuery,
    JobStatus,
    NewJob,
    Page,
    to_datetime,
)
from relayarr.jobqueue.storage import StorageEngine

START = 1_700_000_000.0
"""Where every test's fake clock starts: a whole number, so sums of whole seconds stay exact."""

LEASE = 30.5
"""Lease length used throughout. The half second keeps expiry off the whole-second ticks
tests advance by, so no test depends on whether expiry at exactly ``now`` counts."""

TYPE_A = "contract-a"
TYPE_B = "contract-b"
TYPES = (TYPE_A, TYPE_B)


def at(epoch: float) -> datetime:
    """Epoch seconds as the aware UTC datetime the public types carry."""
    moment = to_datetime(epoch)
    assert moment is not None
    return moment


class JobOptions(TypedDict, total=False):
    """The keyword options of :meth:`NewJob.create`, for helpers that pass them through."""

    priority: int
    delay: float
    run_at: datetime
    max_attempts: int
    unique_key: str | None
    debounce: bool
    parent_id: int | None


def new_job(
    clock: Clock,
    job_type: str = TYPE_A,
    payload: Mapping[str, object] | None = None,
    **options: Unpack[JobOptions],
) -> NewJob:
    """A validated NewJob created "now" on the given clock; options go to NewJob.create."""
    return NewJob.create(job_type, payload, now=clock.now(), **options)


class ContractBase(abc.ABC):
    """Fixtures and helpers shared by every part of the contract; not collected by itself."""

    @abc.abstractmethod
    async def make_storage(self, clock: Clock) -> StorageEngine:
        """Open a new handle on this test's database, migrated and ready.

        The database is empty when a test starts. A test may call this more than once (to
        check behaviour across connections); every handle it returns must see the same
        database. The suite closes every handle it opened.
        """

    # -- fixtures ------------------------------------------------------------------------

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock(START)

    @pytest.fixture
    async def storage(self, clock: FakeClock) -> AsyncIterator[StorageEngine]:
        self._handles: list[StorageEngine] = []
        handle = await self.make_storage(clock)
        self._handles.append(handle)
        try:
            yield handle
        finally:
            for opened in reversed(self._handles):
                await opened.aclose()

    async def another_handle(self, clock: Clock) -> StorageEngine:
        """A second handle on the same database, closed with the test's main one."""
        handle = await self.make_storage(clock)
        self._handles.append(handle)
        return handle

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    async def add_job(
        storage: StorageEngine,
        job_type: str = TYPE_A,
        payload: Mapping[str, object] | None = None,
        **options: Unpack[JobOptions],
    ) -> Job:
        """Add one job and return it, asserting it was newly created."""
        [added] = await storage.add([new_job(storage.clock, job_type, payload, **options)])
        assert added.created
        return added.job

    @classmethod
    async def make_job_in(
        cls,
        storage: StorageEngine,
        status: JobStatus,
        job_type: str = TYPE_A,
        **options: Unpack[JobOptions],
    ) -> Job:
        """A new job brought to ``status`` through the public verbs.

        It is claimed by type, so no other job of ``job_type`` may be due ahead of it.
        """
        job = await cls.add_job(storage, job_type, **options)
        if status is JobStatus.PENDING:
            return job
        if status is JobStatus.CANCELLED:
            return await storage.cancel(job.id)
        claimed = await cls.claim_one(storage, types=[job_type])
        assert claimed.id == job.id, "make_job_in claimed another job; add fewer ahead of it"
        if status is JobStatus.PROCESSING:
            return claimed
        if status is JobStatus.COMPLETED:
            return (await storage.complete(claimed.lease, None))[0]
        return await storage.fail(claimed.lease, "boom", None)

    @staticmethod
    async def claim_one(
        storage: StorageEngine,
        owner: str = "worker-1",
        types: Sequence[str] = TYPES,
        lease_seconds: float = LEASE,
    ) -> Job:
        """Claim exactly one job, failing the test when none is due."""
        claimed = await storage.claim(owner, types, 1, lease_seconds)
        assert len(claimed) == 1, f"expected one claimable job, got {claimed!r}"
        return claimed[0]

    @staticmethod
    async def list_all(storage: StorageEngine, query: JobQuery | None = None) -> list[Job]:
        """Every job matching ``query``, following cursors to the end."""
        query = query or JobQuery(limit=100)
        jobs: list[Job] = []
        cursor: JobId | None = None
        for _ in range(10_000):
            page: Page = await storage.list(
                JobQuery(
                    statuses=query.statuses,
                    types=query.types,
                    parent_id=query.parent_id,
                    unique_key=query.unique_key,
                    before_id=cursor,
                    limit=query.limit,
                )
            )
            jobs.extend(page.jobs)
            if page.next_cursor is None:
                return jobs
            cursor = page.next_cursor
        raise AssertionError("paging never ended: next_cursor kept coming")

    @classmethod
    async def ids(cls, storage: StorageEngine, *statuses: JobStatus) -> list[JobId]:
        """Ids of the jobs with these statuses (all jobs when none given), newest first."""
        return [job.id for job in await cls.list_all(storage, JobQuery(statuses=statuses))]
