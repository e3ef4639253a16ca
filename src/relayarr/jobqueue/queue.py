"""JobQueue: register handlers, add jobs, run workers, and look at what happened.

>>> storage = await open_storage("sqlite:///data/queue.db")  # doctest: +SKIP
>>> queue = JobQueue(storage)
>>> @queue.handler("scan-movie", max_attempts=5)
... async def scan(job: Job) -> None: ...
>>> job = await queue.add_job("scan-movie", {"path": "/m"}, priority=2, unique_key="/m")
>>> await queue.start(concurrency=4)
>>> ...
>>> await queue.stop(); await storage.aclose()

The queue holds no job state of its own: storage is the single source of truth, shared by
every worker process. What lives here is policy: which handler runs a type, how often to
retry and how long to wait, when a type's breaker opens.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence, Sized
from datetime import datetime, timedelta
from typing import Literal, NoReturn, TypeVar

from relayarr.jobqueue.breaker import BreakerPolicy
from relayarr.jobqueue.bulk import paused_gc
from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.context import SERVICE
from relayarr.jobqueue.errors import InvalidJob, JobQueueError, UnknownJobType
from relayarr.jobqueue.events import Event, EventBus, EventKind
from relayarr.jobqueue.handlers import Handler, HandlerRegistry, JobSpec, Registration, seconds
from relayarr.jobqueue.models import (
    DEFAULT_PRIORITY,
    Added,
    BreakerState,
    Job,
    JobId,
    JobQuery,
    JobStatus,
    NewJob,
    Page,
    QueueStats,
)
from relayarr.jobqueue.owner import make_owner
from relayarr.jobqueue.relay import EventRelay
from relayarr.jobqueue.retry import RetryPolicy
from relayarr.jobqueue.storage import ProgressCallback, StorageEngine
from relayarr.jobqueue.worker import Worker, WorkerConfig

logger = logging.getLogger(__name__)

DEFAULT_BREAKER = BreakerPolicy()

H = TypeVar("H", bound=Handler)


class JobQueue:
    """A durable job queue over one :class:`StorageEngine`; run its workers with :meth:`start`.

    ``lease_seconds`` is how long a claimed job stays reserved without a heartbeat (the
    worker beats at a third of it); ``poll_interval`` caps how long an idle worker goes
    without looking (jobs added in this process wake it at once); ``max_rescues`` is how
    many expired leases a job survives before it fails as a poison job. Retries back off
    exponentially from ``backoff_base`` up to ``backoff_max`` seconds, with jitter.
    With ``strict_types``, adding a job whose type has no handler here (nor was
    :meth:`declare`\\ d) is an error. ``breaker=False`` disables circuit breakers.
    ``share_events`` also writes this process's events to the engine's shared event log
    (engines whose capabilities say ``cross_process_events``), so that
    :meth:`follow_events` in any process sees every worker's events.
    """

    def __init__(
        self,
        storage: StorageEngine,
        *,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_seconds: float = 30.0,
        poll_interval: float = 1.0,
        max_rescues: int = 3,
        default_max_attempts: int = 3,
        backoff_base: float = 1.0,
        backoff_max: float = 3600.0,
        strict_types: bool = True,
        breaker: BreakerPolicy | Literal[False] = DEFAULT_BREAKER,
        share_events: bool = False,
    ) -> None:
        if type(max_rescues) is not int or max_rescues < 0:
            raise ValueError(f"max_rescues must be an integer >= 0, got {max_rescues!r}")
        if type(default_max_attempts) is not int or default_max_attempts < 1:
            raise ValueError(
                f"default_max_attempts must be an integer >= 1, got {default_max_attempts!r}"
            )
        if breaker is not False and not isinstance(breaker, BreakerPolicy):
            raise TypeError(f"breaker must be a BreakerPolicy or False, got {breaker!r}")
        self.storage = storage
        self.clock: Clock = clock or storage.clock
        self.owner = owner or make_owner()
        self.lease_seconds = seconds("lease_seconds", lease_seconds)
        self.poll_interval = seconds("poll_interval", poll_interval)
        self.max_rescues = max_rescues
        self.default_max_attempts = default_max_attempts
        self.backoff_base = seconds("backoff_base", backoff_base, allow_zero=True)
        self.backoff_max = seconds("backoff_max", backoff_max, allow_zero=True)
        self.strict_types = strict_types
        self.default_breaker: BreakerPolicy | None = breaker or None
        self.events = EventBus(self.clock)
        self.relay = EventRelay(storage) if share_events else None
        if self.relay is not None:
            self.events.add_listener(self.relay.collect)
        self._registry = HandlerRegistry(self.default_breaker)
        self._worker: Worker | None = None

    # -- handlers ----------------------------------------------------------------------------

    def handler(
        self,
        job_type: str,
        *,
        max_attempts: int | None = None,
        timeout: float | None = None,
        lease_seconds: float | None = None,
        breaker: BreakerPolicy | bool | None = None,
    ) -> Callable[[H], H]:
        """Decorator registering an async handler for ``job_type``; see :meth:`register`."""

        def decorate(fn: H) -> H:
            self.register(
                job_type,
                fn,
                max_attempts=max_attempts,
                timeout=timeout,
                lease_seconds=lease_seconds,
                breaker=breaker,
            )
            return fn

        return decorate

    def register(
        self,
        job_type: str,
        fn: Handler,
        *,
        max_attempts: int | None = None,
        timeout: float | None = None,
        lease_seconds: float | None = None,
        breaker: BreakerPolicy | bool | None = None,
    ) -> None:
        """Run ``fn(job)`` for jobs of ``job_type`` on this node; a type has one handler.

        ``max_attempts`` is the default for new jobs of this type; ``timeout`` (seconds)
        fails an attempt that runs longer; ``lease_seconds`` overrides the queue's lease
        for this type; ``breaker`` is a policy, None for the queue's, or False for none.
        Raises ValueError when the type already has a handler.
        """
        self._registry.add(
            job_type,
            fn,
            max_attempts=max_attempts,
            timeout=timeout,
            lease_seconds=lease_seconds,
            breaker=breaker,
        )
        if self._worker is not None:
            self._worker.wake()

    def declare(self, *job_types: str) -> None:
        """Accept jobs of these types without handling them here (producer-only nodes)."""
        self._registry.declare(job_types)

    def handled_types(self) -> list[str]:
        """Types this node runs handlers for."""
        return self._registry.types()

    def registration(self, job_type: str) -> Registration:
        """The handler and options for ``job_type``; KeyError if there is none."""
        return self._registry[job_type]

    def breaker_policy(self, job_type: str) -> BreakerPolicy | None:
        """The breaker policy of a handled type, or None when it has no breaker."""
        return self._registry.breaker_policy(job_type)

    # -- adding jobs -------------------------------------------------------------------------

    async def add_job(
        self,
        job_type: str,
        payload: Mapping[str, object] | None = None,
        *,
        priority: int = DEFAULT_PRIORITY,
        delay: float = 0.0,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
        unique_key: str | None = None,
        debounce: bool = False,
        parent_id: int | None = None,
    ) -> Job:
        """Store one job and return it; nothing is stored if it is invalid.

        ``priority`` runs from 1 (most urgent) to 10; ``delay`` seconds or an aware
        ``run_at`` postpone it. While an active job holds ``unique_key``, that job is
        returned instead (``debounce`` pushes its run_at to this one's). Raises
        :class:`InvalidJob`, or :class:`UnknownJobType` under ``strict_types``.
        """
        if self.strict_types and job_type not in self._registry.known:
            self._refuse_type(job_type)
        new = NewJob.create(
            job_type,
            payload,
            now=self.clock.now(),
            priority=priority,
            delay=delay,
            run_at=run_at,
            max_attempts=self._default_attempts(job_type) if max_attempts is None else max_attempts,
            unique_key=unique_key,
            debounce=debounce,
            parent_id=parent_id,
        )
        [added] = await self._store([new])
        return added.job

    async def add(self, spec: JobSpec) -> Added:
        """Store one job as :meth:`add_job` does, saying whether it is new.

        ``created`` is false when an active job already held ``spec.unique_key``: that job
        is returned (its run_at pushed later under ``debounce``), and nothing is stored.

        >>> added = await queue.add(JobSpec("scan-movie", {"path": "/m"}, unique_key="/m"))
        ... # doctest: +SKIP
        >>> added.job.id, added.created  # doctest: +SKIP
        (7, True)
        """
        [added] = await self._store(self._prepare_specs((spec,), self.clock.now()))
        return added

    async def add_jobs(self, specs: Iterable[JobSpec]) -> list[Job]:
        """Store many jobs in one transaction, all or none; returns them in order."""
        new = self._prepare_specs(specs, self.clock.now())
        if not new:
            return []
        return [item.job for item in await self._store(new)]

    async def _store(self, new: Sequence[NewJob]) -> list[Added]:
        added = await self.storage.add(new)
        self._announce(added)
        return added

    def _prepare_specs(
        self, specs: Iterable[JobSpec], now: float, parent_id: int | None = None
    ) -> list[NewJob]:
        """Validate job specs for storage; ``parent_id`` applies where a spec names none."""
        # A tight loop on purpose: batches of 100,000 jobs should cost little more than
        # NewJob.create itself, so lookups are hoisted and defaults cached per type.
        if not isinstance(specs, Sized):
            specs = list(specs)
        with paused_gc(len(specs)):
            return self._prepare(specs, now, parent_id)

    def _prepare(self, specs: Iterable[JobSpec], now: float, parent_id: int | None) -> list[NewJob]:
        create = NewJob.create
        known = self._registry.known
        strict = self.strict_types
        attempts: dict[str, int] = {}
        prepared: list[NewJob] = []
        append = prepared.append
        for spec in specs:
            job_type = spec.type
            if strict and job_type not in known:
                self._refuse_type(job_type)
            max_attempts = spec.max_attempts
            if max_attempts is None:
                max_attempts = attempts.get(job_type)
                if max_attempts is None:
                    max_attempts = attempts[job_type] = self._default_attempts(job_type)
            append(
                create(
                    job_type,
                    spec.payload,
                    now=now,
                    priority=spec.priority,
                    delay=spec.delay,
                    run_at=spec.run_at,
                    max_attempts=max_attempts,
                    unique_key=spec.unique_key,
                    debounce=spec.debounce,
                    parent_id=spec.parent_id if spec.parent_id is not None else parent_id,
                )
            )
        return prepared

    def _refuse_type(self, job_type: object) -> NoReturn:
        if not isinstance(job_type, str) or not job_type:
            raise InvalidJob(f"job type must be a non-empty string, got {job_type!r}")
        raise UnknownJobType(job_type)

    def _default_attempts(self, job_type: str) -> int:
        registration = self._registry.get(job_type)
        if registration is not None and registration.max_attempts is not None:
            return registration.max_attempts
        return self.default_max_attempts

    def _announce(self, added: Sequence[Added]) -> None:
        """Publish "added" for newly created jobs and wake the local dispatcher."""
        if self.events.active:
            for item in added:
                if item.created:
                    job = item.job
                    self.events.publish(
                        EventKind.ADDED,
                        job.id,
                        job.type,
                        {"priority": job.priority, "run_at": job.run_at.isoformat()},
                    )
        if self._worker is not None:
            self._worker.wake()

    # -- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between :meth:`start` and the end of :meth:`stop`."""
        return self._worker is not None

    @property
    def stopping(self) -> bool:
        """True while :meth:`stop` drains: no new job is claimed."""
        return self._worker is not None and self._worker.stopping

    async def start(self, concurrency: int = 1) -> None:
        """Reclaim dead local workers' jobs, then run up to ``concurrency`` jobs at a time.

        Returns once the workers run (in background tasks of the current event loop).
        """
        if type(concurrency) is not int or concurrency < 1:
            raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")
        if self._worker is not None:
            raise RuntimeError("the queue is already running; stop() it first")
        worker = self._make_worker(concurrency)
        self._worker = worker
        try:
            await worker.start()
        except BaseException:
            self._worker = None
            raise

    def _make_worker(self, concurrency: int) -> Worker:
        config = WorkerConfig(
            owner=self.owner,
            lease_seconds=self.lease_seconds,
            poll_interval=self.poll_interval,
            max_rescues=self.max_rescues,
            retry=RetryPolicy(self.backoff_base, self.backoff_max),
        )
        return Worker(
            config,
            concurrency,
            storage=self.storage,
            breakers=self.storage,
            clock=self.clock,
            events=self.events,
            registry=self._registry,
            prepare_follow_ups=self._prepare_specs,
            announce=self._announce,
        )

    async def stop(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a drain budget
        """Stop claiming; let running jobs finish for up to ``timeout`` seconds, then cancel
        the rest and release them (pending again, the attempt not counted). Idempotent."""
        timeout = seconds("timeout", timeout, allow_zero=True)
        worker = self._worker
        if worker is not None:
            await worker.stop(timeout)
            if self._worker is worker:
                self._worker = None
        await self.flush_events()

    async def flush_events(self) -> None:
        """Wait until events collected for the shared log are written (no-op when not
        sharing). :meth:`stop` does it; a producer-only process calls it before closing."""
        if self.relay is not None:
            await self.relay.flush()

    def follow_events(self, after_id: int = 0) -> AsyncIterator[Event]:
        """Every process's events from the shared log, with ids above ``after_id``, then
        live. Needs ``share_events=True`` (and an engine that keeps the log)."""
        if self.relay is None:
            raise JobQueueError("follow_events needs JobQueue(..., share_events=True)")
        return self.relay.follow(after_id)

    async def last_event_id(self) -> int:
        """The newest id in the shared log (follow from it to see only what comes next)."""
        if self.relay is None:
            raise JobQueueError("last_event_id needs JobQueue(..., share_events=True)")
        return await self.relay.last_id()

    def wake(self) -> None:
        """Look for due work now (for example after a test advanced its FakeClock)."""
        if self._worker is not None:
            self._worker.wake()

    def progress(self, job: Job, fraction: float, message: str | None = None) -> None:
        """Publish a "progress" event for ``job``: ``fraction`` done, from 0 to 1."""
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or not 0.0 <= fraction <= 1.0
        ):
            raise ValueError(f"progress must be a number from 0 to 1, got {fraction!r}")
        if self.events.active:
            self.events.publish(
                EventKind.PROGRESS,
                job.id,
                job.type,
                {"fraction": float(fraction), "message": message, "attempt": job.attempts},
            )

    # -- looking and steering ----------------------------------------------------------------

    async def ping(self) -> None:
        """Return when storage answers; raise its StorageError when it does not."""
        await self.storage.ping()

    async def get_job(self, job_id: int) -> Job:
        """The job, active or historical; raises :class:`JobNotFound`."""
        return await self.storage.get(JobId(job_id))

    async def list_jobs(self, query: JobQuery | None = None) -> Page:
        """A page of jobs matching ``query``, newest first."""
        return await self.storage.list(query or JobQuery())

    async def stats(self) -> QueueStats:
        """Counts by status and type, oldest due job's wait, and recent throughput."""
        return await self.storage.stats()

    async def breakers(self) -> list[BreakerState]:
        """Every circuit breaker's shared state, as stored."""
        return await self.storage.breakers()

    async def cancel_job(self, job_id: int) -> Job:
        """Cancel an active job; a handler running it in this process is stopped at once
        (elsewhere, at its next heartbeat). Raises JobNotFound or InvalidTransition."""
        job = await self.storage.cancel(JobId(job_id))
        if self._worker is not None:
            self._worker.cancel_local(job.id)
        logger.info(
            "job cancelled",
            extra={"service": SERVICE, "operation": "cancel", "job_id": job.id, "type": job.type},
        )
        self.events.publish(EventKind.CANCELLED, job.id, job.type, {"attempt": job.attempts})
        return job

    async def retry_job(self, job_id: int) -> Job:
        """Run a failed or cancelled job again from scratch (attempts reset)."""
        job = await self.storage.retry(JobId(job_id))
        logger.info(
            "job queued again by request",
            extra={"service": SERVICE, "operation": "retry", "job_id": job.id, "type": job.type},
        )
        self.events.publish(
            EventKind.ADDED,
            job.id,
            job.type,
            {"priority": job.priority, "run_at": job.run_at.isoformat(), "retried": True},
        )
        self.wake()
        return job

    async def prune(
        self,
        *,
        older_than: float | timedelta | None = None,
        keep: int | None = None,
        statuses: Sequence[JobStatus] = (),
        progress: ProgressCallback | None = None,
    ) -> int:
        """Delete finished jobs older than an age (seconds or timedelta) and/or beyond the
        newest ``keep``; returns how many were deleted."""
        cutoff: float | None = None
        if older_than is not None:
            age = older_than.total_seconds() if isinstance(older_than, timedelta) else older_than
            cutoff = self.clock.now() - seconds("older_than", age, allow_zero=True)
        if keep is not None and (type(keep) is not int or keep < 0):
            raise ValueError(f"keep must be an integer >= 0, got {keep!r}")
        return await self.storage.prune(
            older_than=cutoff, keep=keep, statuses=statuses, progress=progress
        )


__all__ = ["DEFAULT_BREAKER", "JobQueue"]
