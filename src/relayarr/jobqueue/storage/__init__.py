"""The storage interface every engine implements, and :func:`open_storage` to pick one by URL.

Storage is deliberately dumb: it stores, claims and moves jobs atomically and fences writes
by lease token. Retry policy, backoff, breaker transitions and serialisation of handler
results live above it, in :mod:`relayarr.jobqueue.queue`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from relayarr.jobqueue.clock import Clock, SystemClock
from relayarr.jobqueue.errors import InvalidURL, StorageError
from relayarr.jobqueue.events import Event
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

BreakerTransition = Callable[[BreakerState | None], BreakerState | None]
ProgressCallback = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Real differences between engines, checked visibly by callers and the contract suite."""

    engine: str
    multi_process: bool  # several OS processes may share this storage
    multi_host: bool  # several machines may share it
    cross_process_events: bool  # the engine is also an EventLog (see below)
    # A change by another process ends a ChangeWatch's wait at once; without it the wait
    # looks for changes by polling (SQLite where inotify is unavailable).
    instant_wakeups: bool


@runtime_checkable
class ChangeWatch(Protocol):
    """One waiting caller's view of changes made elsewhere (see :meth:`Storage.watch_changes`)."""

    async def wait(self, max_wait: float) -> None:
        """Return when another process may have changed the queue since this watch's last
        wait returned, or after ``max_wait`` seconds.

        It may return early for nothing (the caller looks, and waits again); it never sleeps
        through a change committed after its last wait returned, even when that wait was
        cancelled. The first wait of a watch may return at once.
        """


@runtime_checkable
class Storage(Protocol):
    """Durable home of jobs: the verbs a producer and its workers use. Every method is
    atomic; every write after a claim is fenced by the lease token.

    Why each member is here:

    * ``add``, ``claim``, ``heartbeat``, ``complete``, ``fail``, ``release``: a job's life,
      from stored to leased to finished (or given back unrun).
    * ``reclaim``: the sweeper rescuing what a lost worker held.
    * ``next_due``: how long an idle dispatcher may sleep before a delayed job is due.
    * ``lease_owners``: whose leases are held, so a starting worker rescues at once what a
      dead process on its machine left, instead of waiting out the leases.
    * ``watch_changes``: wake-ups from other processes, so a worker does not poll.
    * ``capabilities``, ``clock``: the real differences between engines, and the time every
      stored time is read from.

    Beside it: looking at and steering jobs from outside their run in :class:`JobAdmin`,
    circuit breakers in :class:`BreakerStore`, a shared event log in :class:`EventLog`,
    receiving moved jobs in :class:`JobImport`. :class:`StorageEngine` is what every engine
    is: Storage, JobAdmin and BreakerStore, plus what owning a database needs.
    """

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def clock(self) -> Clock: ...

    async def add(self, jobs: Sequence[NewJob]) -> list[Added]:
        """Store jobs in one transaction. A unique_key held by an active job returns that job
        (``created=False``), pushing its run_at later when ``debounce`` is set."""
        ...

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        """Lease up to ``limit`` due pending jobs of ``types`` in order (priority, run_at, id)."""
        ...

    async def next_due(self, types: Sequence[str]) -> float | None:
        """Epoch seconds when the earliest pending job of ``types`` becomes due, if any."""
        ...

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> float:
        """Extend a lease; returns the new expiry. Raises LeaseLost."""
        ...

    async def complete(
        self, lease: Lease, result_json: str | None, follow_ups: Sequence[NewJob] = ()
    ) -> tuple[Job, list[Added]]:
        """Move a processing job to history as completed, adding follow-ups atomically.
        Raises LeaseLost and changes nothing if the lease is gone."""
        ...

    async def fail(self, lease: Lease, error: str, retry_at: float | None) -> Job:
        """Back to pending at ``retry_at``, or to history as failed when it is None.
        Raises LeaseLost."""
        ...

    async def release(
        self, lease: Lease, run_at: float | None = None, note: str | None = None
    ) -> Job:
        """Give a claimed job back unrun: pending again, due at ``run_at`` (default now),
        this attempt not counted (graceful shutdown, or a handler's :class:`Snooze`);
        ``note``, when given, becomes its last error (why it waits). Raises LeaseLost."""
        ...

    async def reclaim(self, dead_owners: Sequence[str], max_rescues: int) -> list[Job]:
        """Rescue processing jobs whose lease expired or whose owner is known dead: back to
        pending with ``rescues + 1``; to history as failed when that would pass
        ``max_rescues`` (a poison job) or when the lost run was its last allowed attempt."""
        ...

    async def lease_owners(self) -> list[str]:
        """Distinct owners of current leases (to find dead local workers)."""
        ...

    def watch_changes(self) -> ChangeWatch:
        """A new watch for one waiting caller (a dispatcher, an event follower): work became
        due or events were appended in another process. Each watch keeps its own place, so
        one caller's wake-up is never used up by another's."""
        ...


@runtime_checkable
class JobAdmin(Protocol):
    """Looking at jobs and history and steering them from outside their run: what the
    API, the dashboard and the CLI use, and no worker does."""

    async def get(self, job_id: JobId) -> Job:
        """The job, active or historical. Raises JobNotFound."""
        ...

    async def list(self, query: JobQuery) -> Page:
        """Jobs matching the query, newest id first, keyset-paged."""
        ...

    async def stats(self) -> QueueStats: ...

    async def cancel(self, job_id: JobId) -> Job:
        """Move an active job (pending or processing) to history as cancelled; its lease, if
        any, is void. Raises JobNotFound or InvalidTransition (already finished)."""
        ...

    async def retry(self, job_id: JobId) -> Job:
        """Move a failed or cancelled job from history back to pending, attempts reset."""
        ...

    async def prune(
        self,
        *,
        older_than: float | None = None,
        keep: int | None = None,
        statuses: Sequence[JobStatus] = (),
        progress: ProgressCallback | None = None,
    ) -> int:
        """Delete history finished before ``older_than`` and/or beyond the newest ``keep``.
        Works in small batches so it never holds the database for long; returns rows deleted."""
        ...


@runtime_checkable
class BreakerStore(Protocol):
    """Shared circuit-breaker state, one record per name, changed only by pure transitions
    (:mod:`relayarr.jobqueue.breaker`), so workers in any process agree on it. Every
    engine provides it (see :class:`StorageEngine`)."""

    async def breakers(self) -> list[BreakerState]:
        """Every stored breaker (a name with none stored is closed and clean)."""
        ...

    async def update_breaker(self, name: str, transition: BreakerTransition) -> BreakerState | None:
        """Apply a pure transition to one breaker atomically (across processes) and return
        what was stored; a None result deletes the record. A transition that returns a
        state of another name is refused with ValueError, and nothing is stored."""
        ...


@runtime_checkable
class StorageEngine(Storage, JobAdmin, BreakerStore, Protocol):
    """What every engine is, and :func:`open_storage` returns: :class:`Storage`,
    :class:`JobAdmin` and :class:`BreakerStore`, plus what owning a database needs (a
    printable name for messages, the schema, a health check, closing), which no worker
    uses."""

    @property
    def where(self) -> str:
        """A printable name of the database (no password)."""
        ...

    async def migrate(self) -> None:
        """Create or upgrade the schema; idempotent."""

    async def ping(self) -> None:
        """Return when the database answers a trivial query; raise StorageError when it
        does not. Outages are waited out as for any read (the engine's retry option)."""

    async def aclose(self) -> None: ...


@runtime_checkable
class EventLog(Protocol):
    """What an engine with ``capabilities.cross_process_events`` offers besides Storage: a
    shared, ordered, bounded log of queue events, so that one process (a web node) sees
    what workers in other processes do, and a reader can resume where it left off."""

    async def append_events(self, events: Sequence[Event]) -> None:
        """Store events in order; the log gives each a new id, larger than any before.
        The ``id`` the events carry (their local bus's) is not kept."""

    async def read_events(self, after_id: int, limit: int) -> list[Event]:
        """Events with an id above ``after_id``, oldest first, at most ``limit``. Old
        events may have been trimmed: the first id returned can then jump past a gap."""
        ...

    async def last_event_id(self) -> int:
        """The id of the newest event in the log, 0 when it is empty."""
        ...


@runtime_checkable
class JobImport(Protocol):
    """What an engine offers to receive jobs moved from another (``relayarr queue move``)."""

    async def import_jobs(self, jobs: Sequence[Job]) -> int:
        """Store jobs exactly as they are, under their own ids, in one transaction: pending
        ones into the active set, finished ones into history. Ids already present (active
        or history) are skipped; returns how many were stored. The engine never hands out
        an imported id again. Processing jobs are refused (ValueError): they belong to a
        running worker. A unique key held by another active job is InvalidTransition."""
        ...


ENGINES = {
    "sqlite": "relayarr.jobqueue.storage.sqlite:SQLiteStorage",
    "postgresql": "relayarr.jobqueue.storage.postgres:PostgresStorage",
    "redis": "relayarr.jobqueue.storage.redis:RedisStorage",
    "rediss": "relayarr.jobqueue.storage.redis:RedisStorage",
}


async def open_storage(
    url: str, *, clock: Clock | None = None, create: bool = True
) -> StorageEngine:
    """Open the engine named by the URL's scheme, creating or upgrading its schema unless told
    not to.

    With ``create=False`` nothing is created: a missing SQLite file or an unmigrated database
    is an error rather than a new empty queue (what a typo in a path should give).

    >>> storage = await open_storage("sqlite:///data/queue.db")  # doctest: +SKIP
    """
    scheme = urlsplit(url).scheme.split("+", 1)[0]
    if scheme not in ENGINES:
        known = ", ".join(f"{name}://" for name in ENGINES)
        raise InvalidURL(f"unsupported queue URL scheme {scheme!r}; use one of {known}")
    module_name, _, class_name = ENGINES[scheme].partition(":")
    import importlib

    module = importlib.import_module(module_name)
    engine_cls = getattr(module, class_name)
    storage: StorageEngine = await engine_cls.open(url, clock=clock or SystemClock(), create=create)
    if create:
        try:
            await storage.migrate()
        except BaseException:
            await storage.aclose()
            raise
    return storage


__all__ = [
    "BreakerStore",
    "BreakerTransition",
    "Capabilities",
    "ChangeWatch",
    "EventLog",
    "JobAdmin",
    "JobImport",
    "ProgressCallback",
    "Storage",
    "StorageEngine",
    "StorageError",
    "open_storage",
]
