"""Storage against a simple in-Python model, driven by Hypothesis through random histories.

Part of the conformance suite, like :class:`~relayarr.jobqueue.testing.StorageContract`; it
also needs Hypothesis. An engine binds one hook, :meth:`StorageMachine.storage_for`::

    def test_my_engine_behaves_like_the_model() -> None:
        class MyEngine(StorageMachine):
            @asynccontextmanager
            async def storage_for(self, clock: Clock) -> AsyncIterator[StorageEngine]:
                storage = await open_storage(fresh_url(), clock=clock)
                try:
                    yield storage
                finally:
                    await storage.aclose()

        check_against_model(MyEngine)

Every step applies one verb to both the engine and the model, checks the engine's answer,
and then every invariant: the same jobs in the same places with the same counts, nothing in
two places, at most one active job per unique key, claims in model order.

The machine never writes with a lease that merely expired (nobody took it over): whether
that is refused is pinned by a focused contract test, not re-litigated here. Stale leases it
does use are void for good: the job finished, was released, rescued or cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from relayarr.jobqueue.clock import Clock, FakeClock
from relayarr.jobqueue.errors import InvalidTransition, LeaseLost
from relayarr.jobqueue.models import (
    Added,
    Job,
    JobId,
    JobQuery,
    JobStatus,
    Lease,
    NewJob,
    TypeStats,
)
from relayarr.jobqueue.storage import StorageEngine
from relayarr.jobqueue.testing.base import LEASE, START, TYPE_A, TYPE_B, TYPES, ContractBase
from relayarr.jobqueue.testing.leases import FENCED_WRITES, fenced_write

T = TypeVar("T")
MAX_RESCUES = 1
OWNERS = ("w1", "w2")
ACTIVE = (JobStatus.PENDING, JobStatus.PROCESSING)
HISTORY = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass
class ModelJob:
    id: JobId
    type: str
    priority: int
    run_at: float
    unique_key: str | None
    max_attempts: int
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    rescues: int = 0
    lease: Lease | None = None
    owner: str | None = None
    expires: float | None = None

    def void_lease(self) -> Lease | None:
        lease, self.lease, self.owner, self.expires = self.lease, None, None, None
        return lease


class StorageMachine(RuleBasedStateMachine):
    """One engine, one fresh database per example, one private event loop."""

    def storage_for(self, clock: Clock) -> AbstractAsyncContextManager[StorageEngine]:
        """A migrated handle on a fresh, empty database of the engine under test, on
        ``clock``; leaving the context closes the handle and drops the database."""
        raise NotImplementedError("bind the engine in a subclass")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock(START)
        self.jobs: dict[JobId, ModelJob] = {}
        self.void: list[Lease] = []
        self.opened = self.storage_for(self.clock)
        try:
            self.storage: StorageEngine = self.run(self.opened.__aenter__())
        except BaseException:
            self.loop.close()
            raise

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            self.run(self.opened.__aexit__(None, None, None))
        finally:
            self.loop.close()

    # -- the model -----------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def active_with_key(self, key: str | None) -> ModelJob | None:
        if key is None:
            return None
        held = [j for j in self.jobs.values() if j.status.is_active and j.unique_key == key]
        assert len(held) <= 1
        return held[0] if held else None

    def live(self) -> list[ModelJob]:
        """Processing jobs whose lease has not expired: safe to write with."""
        return [
            job
            for job in self.jobs.values()
            if job.lease is not None and job.expires is not None and job.expires > self.now()
        ]

    def expect_added(self, new: NewJob, added: Added) -> None:
        held = self.active_with_key(new.unique_key)
        if held is not None:
            assert not added.created
            assert added.job.id == held.id
            if held.status is JobStatus.PENDING:
                # Debounce moves only a pending job; a running one's run_at is history.
                if new.debounce:
                    held.run_at = max(held.run_at, new.run_at)
                assert added.job.run_at.timestamp() == held.run_at
            return
        assert added.created
        assert added.job.id not in self.jobs
        assert all(added.job.id > known for known in self.jobs), "ids grow"
        self.jobs[added.job.id] = ModelJob(
            added.job.id, new.type, new.priority, new.run_at, new.unique_key, new.max_attempts
        )

    def void_lease(self, job: ModelJob) -> None:
        lease = job.void_lease()
        if lease is not None:
            self.void.append(lease)

    def pick(self, data: st.DataObject, jobs: list[ModelJob]) -> ModelJob:
        return data.draw(st.sampled_from(sorted(jobs, key=lambda job: job.id)))

    # -- rules ---------------------------------------------------------------------------

    @rule(
        specs=st.lists(
            st.tuples(
                st.sampled_from(TYPES),
                st.integers(1, 3),
                st.sampled_from([0, 5, 30]),
                st.sampled_from([None, "k1", "k2"]),
                st.booleans(),
                st.integers(1, 3),
            ),
            min_size=1,
            max_size=3,
        )
    )
    def add(self, specs: list[tuple[str, int, int, str | None, bool, int]]) -> None:
        batch = [
            NewJob.create(
                job_type,
                {"n": len(self.jobs)},
                now=self.now(),
                priority=priority,
                delay=delay,
                unique_key=key,
                debounce=debounce and key is not None,
                max_attempts=max_attempts,
            )
            for job_type, priority, delay, key, debounce, max_attempts in specs
        ]
        added = self.run(self.storage.add(batch))
        assert len(added) == len(batch)
        for new, result in zip(batch, added, strict=True):
            self.expect_added(new, result)

    @rule(
        owner=st.sampled_from(OWNERS),
        types=st.sampled_from([(TYPE_A,), (TYPE_B,), TYPES]),
        limit=st.integers(1, 3),
    )
    def claim(self, owner: str, types: tuple[str, ...], limit: int) -> None:
        due = [
            job
            for job in self.jobs.values()
            if job.status is JobStatus.PENDING and job.type in types and job.run_at <= self.now()
        ]
        due.sort(key=lambda job: (job.priority, job.run_at, job.id))
        expected = due[:limit]
        claimed = self.run(self.storage.claim(owner, types, limit, LEASE))
        assert [job.id for job in claimed] == [job.id for job in expected]
        for job, model in zip(claimed, expected, strict=True):
            assert job.lease_owner == owner
            model.status = JobStatus.PROCESSING
            model.attempts += 1
            model.lease, model.owner, model.expires = job.lease, owner, self.now() + LEASE
            assert job.attempts == model.attempts

    @precondition(lambda self: bool(self.live()))
    @rule(data=st.data(), follow_up=st.booleans())
    def complete(self, data: st.DataObject, follow_up: bool) -> None:
        model = self.pick(data, self.live())
        assert model.lease is not None
        follow_ups = (
            [NewJob.create(TYPE_B, {}, now=self.now(), priority=2, parent_id=model.id)]
            if follow_up
            else []
        )
        done, added = self.run(self.storage.complete(model.lease, None, follow_ups))
        assert done.status is JobStatus.COMPLETED
        model.status = JobStatus.COMPLETED
        self.void_lease(model)
        for new, result in zip(follow_ups, added, strict=True):
            self.expect_added(new, result)
            assert result.job.parent_id == model.id

    @precondition(lambda self: bool(self.live()))
    @rule(data=st.data(), retry_in=st.sampled_from([None, 0, 10]))
    def fail(self, data: st.DataObject, retry_in: int | None) -> None:
        model = self.pick(data, self.live())
        assert model.lease is not None
        retry_at = None if retry_in is None else self.now() + retry_in
        failed = self.run(self.storage.fail(model.lease, "boom", retry_at))
        self.void_lease(model)
        if retry_at is None:
            model.status = JobStatus.FAILED
        else:
            model.status, model.run_at = JobStatus.PENDING, retry_at
        assert failed.status is model.status
        assert failed.last_error == "boom"

    @precondition(lambda self: bool(self.live()))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        model = self.pick(data, self.live())
        assert model.lease is not None
        released = self.run(self.storage.release(model.lease))
        self.void_lease(model)
        model.status, model.attempts = JobStatus.PENDING, model.attempts - 1
        assert released.run_at.timestamp() <= self.now()
        model.run_at = released.run_at.timestamp()

    @precondition(lambda self: bool(self.live()))
    @rule(data=st.data())
    def heartbeat(self, data: st.DataObject) -> None:
        model = self.pick(data, self.live())
        assert model.lease is not None
        expires = self.run(self.storage.heartbeat(model.lease, LEASE))
        assert expires == self.now() + LEASE
        model.expires = expires

    @precondition(lambda self: bool(self.void))
    @rule(data=st.data(), write=st.sampled_from(FENCED_WRITES))
    def stale_write(self, data: st.DataObject, write: str) -> None:
        lease = data.draw(st.sampled_from(self.void))
        with pytest.raises(LeaseLost):
            self.run(fenced_write(self.storage, write, lease))

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        model = self.pick(data, list(self.jobs.values()))
        if model.status.is_terminal:
            with pytest.raises(InvalidTransition):
                self.run(self.storage.cancel(model.id))
            return
        cancelled = self.run(self.storage.cancel(model.id))
        assert cancelled.status is JobStatus.CANCELLED
        model.status = JobStatus.CANCELLED
        self.void_lease(model)

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        model = self.pick(data, list(self.jobs.values()))
        retryable = model.status in (JobStatus.FAILED, JobStatus.CANCELLED)
        if not retryable or self.active_with_key(model.unique_key) is not None:
            with pytest.raises(InvalidTransition):
                self.run(self.storage.retry(model.id))
            return
        retried = self.run(self.storage.retry(model.id))
        assert (retried.status, retried.attempts, retried.rescues) == (JobStatus.PENDING, 0, 0)
        assert retried.run_at.timestamp() <= self.now()
        model.status, model.attempts, model.rescues = JobStatus.PENDING, 0, 0
        model.run_at = retried.run_at.timestamp()

    @rule(seconds=st.sampled_from([1, 10, 31, 61]))
    def advance(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule(dead=st.sampled_from([(), ("w1",), ("w2",), OWNERS]))
    def reclaim(self, dead: tuple[str, ...]) -> None:
        """A rescue fails the job when it passes MAX_RESCUES (poison) or when the lost run was
        its last allowed attempt; otherwise it is pending again with one more rescue."""
        doomed = [
            job
            for job in self.jobs.values()
            if job.status is JobStatus.PROCESSING
            and (job.owner in dead or (job.expires is not None and job.expires < self.now()))
        ]
        rescued = {job.id: job for job in self.run(self.storage.reclaim(dead, MAX_RESCUES))}
        assert sorted(rescued) == sorted(job.id for job in doomed)
        for model in doomed:
            model.rescues += 1
            self.void_lease(model)
            if model.rescues > MAX_RESCUES or model.attempts >= model.max_attempts:
                model.status = JobStatus.FAILED
            else:
                model.status = JobStatus.PENDING
                assert rescued[model.id].run_at.timestamp() <= self.now()
                model.run_at = rescued[model.id].run_at.timestamp()
            assert rescued[model.id].status is model.status

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def same_jobs_in_the_same_places(self) -> None:
        listed = self.run(ContractBase.list_all(self.storage, JobQuery(limit=7)))
        assert len({job.id for job in listed}) == len(listed), "a job listed twice"
        assert {job.id for job in listed} == set(self.jobs)
        for job in listed:
            self.check_job(job)
        active = self.run(ContractBase.ids(self.storage, *ACTIVE))
        history = self.run(ContractBase.ids(self.storage, *HISTORY))
        assert not set(active) & set(history), "a job in both tables"
        assert sorted(active + history) == sorted(self.jobs)

    def check_job(self, job: Job) -> None:
        model = self.jobs[job.id]
        assert (job.type, job.priority, job.unique_key) == (
            model.type,
            model.priority,
            model.unique_key,
        )
        assert (job.status, job.attempts) == (model.status, model.attempts), job
        if model.status is JobStatus.PENDING:
            assert job.run_at.timestamp() == model.run_at
            assert job.rescues == model.rescues
        if model.status is JobStatus.PROCESSING:
            assert model.lease is not None
            assert (job.lease_owner, job.lease_token) == (model.owner, model.lease.token)

    @invariant()
    def unique_keys_hold(self) -> None:
        active = self.run(ContractBase.list_all(self.storage, JobQuery(statuses=ACTIVE)))
        keys = [job.unique_key for job in active if job.unique_key is not None]
        assert len(keys) == len(set(keys))

    @invariant()
    def stats_and_due_times_agree(self) -> None:
        stats = self.run(self.storage.stats())
        expected: dict[str, dict[str, int]] = {}
        for job in self.jobs.values():
            counts = expected.setdefault(job.type, {})
            counts[job.status.value] = counts.get(job.status.value, 0) + 1
        assert dict(stats.by_type) == {
            job_type: TypeStats(**counts) for job_type, counts in expected.items()
        }
        pending = [job.run_at for job in self.jobs.values() if job.status is JobStatus.PENDING]
        assert self.run(self.storage.next_due(TYPES)) == (min(pending) if pending else None)
        owners = {job.owner for job in self.jobs.values() if job.owner is not None}
        assert sorted(self.run(self.storage.lease_owners())) == sorted(owners)


def check_against_model(machine: type[StorageMachine], max_examples: int = 50) -> None:
    """Run ``machine`` (a StorageMachine bound to an engine) through random histories."""
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


__all__ = ["StorageMachine", "check_against_model"]
