"""A small in-memory Storage for the queue's unit tests: simple, obviously right, no I/O.

It follows the Storage protocol's documented semantics (claim order, fenced writes,
history, unique keys, reclaim with rescues) and counts every call so tests can check
what the queue asked of storage. Its change watches wake when work becomes pending through
any handle on the same :class:`MemoryDatabase`.

It passes the conformance suite every engine passes (test_fake_storage_contract.py),
so it cannot drift from them.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from relayarr.jobqueue.clock import Clock, FakeClock
from relayarr.jobqueue.errors import (
    InvalidTransition,
    JobNotFound,
    LeaseLost,
    StorageBusy,
    StorageUnavailable,
)
from relayarr.jobqueue.events import Event, EventKind, Subscription
from relayarr.jobqueue.models import (
    Added,
    BreakerState,
    Job,
    JobId,
    JobQuery,
    JobStatus,
    Lease,
    NewJob,
    Page,
    QueueStats,
)
from relayarr.jobqueue.rescue import rescue_failure, rescue_note
from relayarr.jobqueue.storage import (
    BreakerTransition,
    Capabilities,
    ProgressCallback,
    StorageEngine,
)
from relayarr.jobqueue.storage.answers import FINISHED_WINDOW, page_of, queue_stats
from relayarr.jobqueue.storage.rules import check_breaker_name, check_prune_arguments


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class MemoryDatabase:
    """What every handle on one in-memory "database" shares (the contract suite opens
    several handles on one database, as processes share a file)."""

    active: dict[JobId, Job] = field(default_factory=dict)
    history: dict[JobId, Job] = field(default_factory=dict)
    breakers: dict[str, BreakerState] = field(default_factory=dict)
    next_id: int = 1
    changes: int = 0  # work that became pending, counted for the watches
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def change(self) -> None:
        """Count a change and wake every watch waiting for one."""
        self.changes += 1
        self.changed.set()
        self.changed = asyncio.Event()


class MemoryStorage:
    """Storage in two dicts: active (pending, processing) and history."""

    capabilities = Capabilities(
        engine="memory",
        multi_process=False,
        multi_host=False,
        cross_process_events=False,
        instant_wakeups=False,
    )

    def __init__(self, clock: Clock | None = None, *, database: MemoryDatabase | None = None):
        self._clock = clock or FakeClock()
        self._database = database or MemoryDatabase()
        self.active = self._database.active
        self.history = self._database.history
        self.breaker_states = self._database.breakers
        self.calls: Counter[str] = Counter()
        self.fail_heartbeats = 0  # raise StorageBusy from this many heartbeats
        self.fail_claims = 0  # ... from this many claims
        self.fail_completes = 0  # ... from this many completes
        self.fail_pings = 0  # ... from this many pings
        self.closed = False
        self.last_prune: tuple[float | None, int | None, tuple[JobStatus, ...]] | None = None

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def where(self) -> str:
        return "memory"

    def _now(self) -> float:
        return self._clock.now()

    async def migrate(self) -> None:
        self.calls["migrate"] += 1

    # -- adding ----------------------------------------------------------------------------

    async def add(self, jobs: Sequence[NewJob]) -> builtins.list[Added]:
        self.calls["add"] += 1
        return self._add(jobs)

    def _add(self, jobs: Sequence[NewJob]) -> builtins.list[Added]:
        now = self._now()
        result: builtins.list[Added] = []
        for new in jobs:
            holder = self._holder(new.unique_key)
            if holder is not None:
                if (
                    new.debounce
                    and holder.status is JobStatus.PENDING
                    and holder.run_at.timestamp() < new.run_at
                ):
                    holder = replace(holder, run_at=_dt(new.run_at))
                    self.active[holder.id] = holder
                result.append(Added(holder, created=False))
                continue
            job_id = JobId(self._database.next_id)
            self._database.next_id += 1
            job = Job(
                id=job_id,
                type=new.type,
                payload=json.loads(new.payload_json),
                priority=new.priority,
                status=JobStatus.PENDING,
                attempts=0,
                max_attempts=new.max_attempts,
                run_at=_dt(new.run_at),
                created_at=_dt(now),
                unique_key=new.unique_key,
                parent_id=new.parent_id,
            )
            self.active[job_id] = job
            self._database.change()
            result.append(Added(job, created=True))
        return result

    def _holder(self, unique_key: str | None) -> Job | None:
        """The active job holding ``unique_key``, if any."""
        if unique_key is None:
            return None
        return next((job for job in self.active.values() if job.unique_key == unique_key), None)

    # -- claiming and leases ---------------------------------------------------------------

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> builtins.list[Job]:
        self.calls["claim"] += 1
        if self.fail_claims:
            self.fail_claims -= 1
            raise StorageBusy("fake busy", where="memory")
        now = self._now()
        due = sorted(
            (
                job
                for job in self.active.values()
                if job.status is JobStatus.PENDING
                and job.type in types
                and job.run_at.timestamp() <= now
            ),
            key=lambda job: (job.priority, job.run_at, job.id),
        )[:limit]
        claimed = []
        for job in due:
            leased = replace(
                job,
                status=JobStatus.PROCESSING,
                attempts=job.attempts + 1,
                started_at=_dt(now),
                lease_owner=owner,
                lease_token=secrets.token_hex(8),
                lease_expires_at=_dt(now + lease_seconds),
            )
            self.active[job.id] = leased
            claimed.append(leased)
        return claimed

    async def next_due(self, types: Sequence[str]) -> float | None:
        self.calls["next_due"] += 1
        times = [
            job.run_at.timestamp()
            for job in self.active.values()
            if job.status is JobStatus.PENDING and job.type in types
        ]
        return min(times, default=None)

    def _leased(self, lease: Lease) -> Job:
        # An expired lease is lost even before anyone reclaims it: the job may already
        # be running elsewhere, so no write may go through on it.
        job = self.active.get(lease.job_id)
        if (
            job is None
            or job.status is not JobStatus.PROCESSING
            or job.lease_token != lease.token
            or (
                job.lease_expires_at is not None and job.lease_expires_at.timestamp() <= self._now()
            )
        ):
            raise LeaseLost(lease.job_id)
        return job

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> float:
        self.calls["heartbeat"] += 1
        if self.fail_heartbeats:
            self.fail_heartbeats -= 1
            raise StorageBusy("fake busy", where="memory")
        job = self._leased(lease)
        expires = self._now() + lease_seconds
        self.active[job.id] = replace(job, lease_expires_at=_dt(expires))
        return expires

    def _archive(self, job: Job, status: JobStatus, **changes: Any) -> Job:
        del self.active[job.id]
        done = replace(
            job,
            status=status,
            finished_at=_dt(self._now()),
            lease_token=None,
            lease_expires_at=None,
            **changes,
        )
        self.history[job.id] = done
        return done

    async def complete(
        self, lease: Lease, result_json: str | None, follow_ups: Sequence[NewJob] = ()
    ) -> tuple[Job, builtins.list[Added]]:
        self.calls["complete"] += 1
        if self.fail_completes:
            self.fail_completes -= 1
            raise StorageBusy("fake busy", where="memory")
        job = self._leased(lease)
        result = json.loads(result_json) if result_json is not None else None
        done = self._archive(job, JobStatus.COMPLETED, result=result)
        return done, self._add(follow_ups)

    async def fail(self, lease: Lease, error: str, retry_at: float | None) -> Job:
        self.calls["fail"] += 1
        job = self._leased(lease)
        if retry_at is None:
            return self._archive(job, JobStatus.FAILED, last_error=error)
        back = self._to_pending(job, run_at=retry_at, last_error=error)
        return back

    def _to_pending(self, job: Job, *, run_at: float, **changes: Any) -> Job:
        back = replace(
            job,
            status=JobStatus.PENDING,
            run_at=_dt(run_at),
            lease_owner=None,
            lease_token=None,
            lease_expires_at=None,
            **changes,
        )
        self.active[job.id] = back
        self._database.change()
        return back

    async def release(
        self, lease: Lease, run_at: float | None = None, note: str | None = None
    ) -> Job:
        self.calls["release"] += 1
        job = self._leased(lease)
        if note is not None:
            job = replace(job, last_error=note)
        due = self._now() if run_at is None else run_at
        return self._to_pending(job, run_at=due, attempts=job.attempts - 1, started_at=None)

    async def cancel(self, job_id: JobId) -> Job:
        self.calls["cancel"] += 1
        job = self.active.get(job_id)
        if job is None:
            if job_id in self.history:
                raise InvalidTransition(f"job {job_id} already finished")
            raise JobNotFound(job_id)
        return self._archive(job, JobStatus.CANCELLED)

    async def retry(self, job_id: JobId) -> Job:
        self.calls["retry"] += 1
        job = self.history.get(job_id)
        if job is None:
            if job_id in self.active:
                raise InvalidTransition(f"job {job_id} is still active")
            raise JobNotFound(job_id)
        if job.status is JobStatus.COMPLETED:
            raise InvalidTransition(f"job {job_id} completed")
        holder = self._holder(job.unique_key)
        if holder is not None:
            raise InvalidTransition(f"job {holder.id} already holds unique key {job.unique_key!r}")
        del self.history[job_id]
        back = replace(
            job,
            status=JobStatus.PENDING,
            attempts=0,
            run_at=_dt(self._now()),
            finished_at=None,
            rescues=0,
        )
        self.active[job_id] = back
        self._database.change()
        return back

    async def reclaim(self, dead_owners: Sequence[str], max_rescues: int) -> builtins.list[Job]:
        self.calls["reclaim"] += 1
        now = self._now()
        rescued = []
        for job in builtins.list(self.active.values()):
            if job.status is not JobStatus.PROCESSING:
                continue
            expired = job.lease_expires_at is not None and job.lease_expires_at.timestamp() <= now
            if not expired and job.lease_owner not in dead_owners:
                continue
            owner = job.lease_owner
            error = rescue_failure(
                rescues=job.rescues,
                attempts=job.attempts,
                max_attempts=job.max_attempts,
                max_rescues=max_rescues,
                owner=owner,
            )
            rescues = job.rescues + 1
            if error is not None:
                rescued.append(
                    self._archive(job, JobStatus.FAILED, rescues=rescues, last_error=error)
                )
                continue
            note = rescue_note(job.last_error, owner)
            rescued.append(self._to_pending(job, run_at=now, rescues=rescues, last_error=note))
        return rescued

    async def lease_owners(self) -> builtins.list[str]:
        self.calls["lease_owners"] += 1
        return sorted(
            {
                job.lease_owner
                for job in self.active.values()
                if job.status is JobStatus.PROCESSING and job.lease_owner is not None
            }
        )

    # -- reading ---------------------------------------------------------------------------

    async def ping(self) -> None:
        self.calls["ping"] += 1
        if self.closed:
            raise StorageUnavailable("storage is closed", where="memory")
        if self.fail_pings:
            self.fail_pings -= 1
            raise StorageBusy("fake busy", where="memory")

    async def get(self, job_id: JobId) -> Job:
        self.calls["get"] += 1
        job = self.active.get(job_id) or self.history.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def list(self, query: JobQuery) -> Page:
        self.calls["list"] += 1
        jobs = sorted(
            (
                job
                for job in (*self.active.values(), *self.history.values())
                if (not query.statuses or job.status in query.statuses)
                and (not query.types or job.type in query.types)
                and (query.parent_id is None or job.parent_id == query.parent_id)
                and (query.unique_key is None or job.unique_key == query.unique_key)
                and (query.before_id is None or job.id < query.before_id)
            ),
            key=lambda job: -job.id,
        )
        return page_of(jobs, query.limit)

    async def stats(self) -> QueueStats:
        self.calls["stats"] += 1
        now = self._now()
        counts = Counter(
            (job.type, job.status.value) for job in (*self.active.values(), *self.history.values())
        )
        due = [
            job.run_at.timestamp()
            for job in self.active.values()
            if job.status is JobStatus.PENDING and job.run_at.timestamp() <= now
        ]
        finished = sum(
            1
            for job in self.history.values()
            if job.finished_at is not None and job.finished_at.timestamp() >= now - FINISHED_WINDOW
        )
        return queue_stats(
            [(job_type, status, count) for (job_type, status), count in counts.items()],
            oldest_due=min(due, default=None),
            finished=finished,
            now=now,
        )

    async def prune(
        self,
        *,
        older_than: float | None = None,
        keep: int | None = None,
        statuses: Sequence[JobStatus] = (),
        progress: ProgressCallback | None = None,
    ) -> int:
        self.calls["prune"] += 1
        check_prune_arguments(keep, statuses)
        self.last_prune = (older_than, keep, tuple(statuses))
        doomed = {
            job.id
            for job in self.history.values()
            if older_than is not None
            and job.finished_at is not None
            and job.finished_at.timestamp() < older_than
            and (not statuses or job.status in statuses)
        }
        if keep is not None:
            chosen = [
                job for job in self.history.values() if not statuses or job.status in statuses
            ]
            chosen.sort(key=lambda job: (job.finished_at or job.created_at, job.id), reverse=True)
            doomed.update(job.id for job in chosen[keep:])
        for job_id in doomed:
            del self.history[job_id]
        if progress is not None:
            progress(len(doomed))
        return len(doomed)

    # -- breakers --------------------------------------------------------------------------

    async def breakers(self) -> builtins.list[BreakerState]:
        self.calls["breakers"] += 1
        return builtins.list(self.breaker_states.values())

    async def update_breaker(self, name: str, transition: BreakerTransition) -> BreakerState | None:
        self.calls["update_breaker"] += 1
        after = transition(self.breaker_states.get(name))
        check_breaker_name(name, after)
        if after is None:
            self.breaker_states.pop(name, None)
        else:
            self.breaker_states[name] = after
        return after

    def watch_changes(self) -> MemoryWatch:
        return MemoryWatch(self._database)

    async def aclose(self) -> None:
        self.closed = True


class MemoryWatch:
    """A ChangeWatch on one in-memory database: a wait ends when work became pending
    through any handle since the last wait returned."""

    def __init__(self, database: MemoryDatabase) -> None:
        self._database = database
        self._seen = -1  # the first wait returns at once, as the contract allows

    async def wait(self, max_wait: float) -> None:
        database = self._database
        if database.changes == self._seen:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max_wait):
                    await database.changed.wait()
        self._seen = database.changes


def _conforms(storage: MemoryStorage) -> StorageEngine:
    return storage  # mypy checks that MemoryStorage satisfies the protocol


async def wait_until(predicate: Callable[[], bool], what: str, limit: float = 5.0) -> None:
    """Wait for ``predicate`` to hold; ``limit`` is a safety net, not a timing assertion."""
    try:
        async with asyncio.timeout(limit):
            while True:
                if predicate():
                    return
                await asyncio.sleep(0.001)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None


async def next_event(
    events: Subscription, kind: EventKind, job_id: int | None = None, limit: float = 5.0
) -> Event:
    """The next event of ``kind`` (for ``job_id``, if given), skipping others."""
    try:
        async with asyncio.timeout(limit):
            async for event in events:
                if event.kind is kind and (job_id is None or event.job_id == job_id):
                    return event
    except TimeoutError:
        pass
    raise AssertionError(f"no {kind} event for job {job_id}")
