"""The running part of a queue: one dispatcher, one heartbeat loop, one sweeper.

* The **dispatcher** claims batches of due jobs (as many as there are free slots) and runs
  each as a task. When nothing is due it sleeps on storage's change watch until whichever
  comes first: a change signalled from another process, a job added in this process
  (:meth:`Worker.wake` cancels the sleep, so no poll latency), the next delayed job or
  breaker probe, or the poll interval.
* The **heartbeat loop** extends every held lease at a third of its length. A refused
  heartbeat means the job was cancelled or taken over: its handler is cancelled and
  nothing is written for it.
* The **sweeper** puts back jobs whose leases expired (any owner) or whose owner is a dead
  process on this machine, and fails jobs rescued too often (poison jobs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from relayarr.jobqueue.breakerboard import BreakerBoard
from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.context import SERVICE, job_extra
from relayarr.jobqueue.errors import JobQueueError, LeaseLost
from relayarr.jobqueue.events import EventBus, EventKind
from relayarr.jobqueue.handlers import HandlerRegistry
from relayarr.jobqueue.models import Job, JobId, JobStatus
from relayarr.jobqueue.owner import is_dead_local
from relayarr.jobqueue.retry import RetryPolicy
from relayarr.jobqueue.runner import (
    Announce,
    Interruption,
    PrepareFollowUps,
    Runner,
    Running,
    run_job,
)
from relayarr.jobqueue.storage import BreakerStore, Storage

logger = logging.getLogger(__name__)

MIN_IDLE_WAIT = 0.005  # never spin: a "due now" job another worker just took
CANCEL_GRACE = 5.0  # how long stop() waits for cancelled handlers to unwind
ERROR_PAUSE = 1.0  # after an unexpected storage error, before trying again


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """The queue's settings a worker runs with, fixed when it starts (see JobQueue)."""

    owner: str
    lease_seconds: float
    poll_interval: float
    max_rescues: int
    retry: RetryPolicy


class Worker:
    """Runs the jobs of the handlers in ``registry`` between ``start()`` and ``stop()``.

    It is given what it needs rather than the queue: the queue starts it, and validating
    follow-ups and announcing added jobs stay the queue's (the two callables). Every engine
    is both ``storage`` and ``breakers``; they are two parameters because each part uses
    one: the loops the job verbs, :class:`BreakerBoard` the breakers.
    """

    def __init__(
        self,
        config: WorkerConfig,
        concurrency: int,
        *,
        storage: Storage,
        breakers: BreakerStore,
        clock: Clock,
        events: EventBus,
        registry: HandlerRegistry,
        prepare_follow_ups: PrepareFollowUps,
        announce: Announce,
    ) -> None:
        self.config = config
        self.storage = storage
        self.clock = clock
        self.events = events
        self.owner = config.owner
        self.concurrency = concurrency
        self._registry = registry
        self.breakers = BreakerBoard(breakers, clock, config.owner, events, registry.breaker_policy)
        self._runner = Runner(
            storage, clock, events, self.breakers, config.retry, prepare_follow_ups, announce
        )
        self._running: dict[JobId, Running] = {}
        self._probing: set[str] = set()
        self._wake = asyncio.Event()
        self._changes = storage.watch_changes()  # wake-ups from other processes
        self._sleeper: asyncio.Future[None] | None = None  # the idle dispatcher's wait
        self._beat_wake = asyncio.Event()
        self._beat_deadline = math.inf
        self._stopping = False
        self._sweep_stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._unstarted: list[Job] = []  # cancelled at shutdown before their first step
        self._stop_task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Reclaim what dead local workers left behind, then start the three loops."""
        await self.sweep()
        if self._stopping:
            return  # stop() was called while we swept: there is nothing to run down
        self._tasks = [
            asyncio.create_task(self._dispatch_loop(), name="jobqueue-dispatcher"),
            asyncio.create_task(self._heartbeat_loop(), name="jobqueue-heartbeats"),
            asyncio.create_task(self._sweep_loop(), name="jobqueue-sweeper"),
        ]
        # Without instant wake-ups another process's jobs are found by polling: say so.
        instant = self.storage.capabilities.instant_wakeups
        logger.info(
            "worker started",
            extra={
                "service": SERVICE,
                "operation": "start",
                "concurrency": self.concurrency,
                "wakeups": "instant" if instant else "polling",
            },
        )

    @property
    def stopping(self) -> bool:
        return self._stopping

    def wake(self) -> None:
        """Make the dispatcher look for due work now."""
        self._wake.set()
        if self._sleeper is not None:
            # Ends the idle wait in the dispatcher's next step: no second waiter to race.
            self._sleeper.cancel()

    async def stop(self, drain_seconds: float) -> None:
        """Stop claiming, drain up to ``drain_seconds``, release the rest; idempotent."""
        if self._stop_task is None:
            self._stop_task = asyncio.create_task(self._stop(drain_seconds), name="jobqueue-stop")
        await asyncio.shield(self._stop_task)

    async def _stop(self, drain_seconds: float) -> None:
        self._stopping = True
        self.wake()
        if not self._tasks:
            return  # stopped during start(): no loop was started
        dispatcher, heartbeats, sweeper = self._tasks
        await dispatcher
        tasks = [run.task for run in self._running.values() if run.task is not None]
        if tasks:
            logger.info(
                "waiting for running jobs",
                extra={"service": SERVICE, "operation": "stop", "running": len(tasks)},
            )
            _, pending = await asyncio.wait(tasks, timeout=drain_seconds)
            if pending:
                for run in list(self._running.values()):
                    if run.task is not None and not run.task.done() and not run.settling:
                        run.interruption = Interruption.STOPPING
                        run.task.cancel()
                _, stuck = await asyncio.wait(pending, timeout=CANCEL_GRACE)
                if stuck:
                    # A handler that swallows cancellation keeps its lease until it expires;
                    # the sweeper of another worker then puts the job back.
                    logger.error(
                        "handlers ignored cancellation; their jobs return after lease expiry",
                        extra={"service": SERVICE, "operation": "stop", "running": len(stuck)},
                    )
        await self._release(self._unstarted)
        self._unstarted.clear()
        self._sweep_stop.set()
        await sweeper
        heartbeats.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeats
        await self.breakers.release_probes()
        logger.info("worker stopped", extra={"service": SERVICE, "operation": "stop"})

    # -- jobs --------------------------------------------------------------------------------

    def _finished(self, run: Running) -> None:
        # A done-callback rather than a ``finally`` in the task: a task cancelled before
        # its first step never runs its body, and its slot must still be freed.
        if self._running.get(run.job.id) is run:
            del self._running[run.job.id]
        if run.probe:
            self._probing.discard(run.job.type)
        if not run.started and run.interruption is Interruption.STOPPING:
            self._unstarted.append(run.job)
        self.wake()

    def cancel_local(self, job_id: JobId) -> bool:
        """Stop the handler of ``job_id`` if it runs here (the job was cancelled)."""
        run = self._running.get(job_id)
        if run is None or run.task is None or run.settling:
            return False
        run.interruption = Interruption.CANCELLED
        run.task.cancel()
        return True

    def _launch(self, job: Job, *, probe: bool) -> None:
        registration = self._registry[job.type]
        lease_seconds = registration.lease_seconds or self.config.lease_seconds
        now = asyncio.get_running_loop().time()
        # A handler with its own lease length gets a heartbeat at once so the lease the
        # claim took (the queue default) is corrected before it matters.
        custom = lease_seconds != self.config.lease_seconds
        run = Running(
            job=job,
            lease=job.lease,
            registration=registration,
            lease_seconds=lease_seconds,
            probe=probe,
            next_beat=now if custom else now + lease_seconds / 3,
        )
        if probe:
            self._probing.add(job.type)
        self._running[job.id] = run
        run.task = asyncio.create_task(run_job(self._runner, run), name=f"jobqueue-job-{job.id}")
        run.task.add_done_callback(lambda _: self._finished(run))
        if run.next_beat < self._beat_deadline:
            self._beat_wake.set()

    # -- dispatcher --------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                free = self.concurrency - len(self._running)
                if free <= 0:
                    await self._wake.wait()
                    continue
                claimed, types = await self._claim(free)
                if self._stopping:
                    # stop() began during the claim: give these back unrun.
                    await self._release([job for job, _ in claimed])
                    break
                for job, probe in claimed:
                    self._launch(job, probe=probe)
                if len(claimed) < free:
                    if claimed:
                        # One step for the handlers just launched before the idle
                        # bookkeeping (a next_due query), so they start first.
                        await asyncio.sleep(0)
                    await self._idle(types)
            except Exception:
                logger.exception(
                    "dispatcher error; retrying", extra={"service": SERVICE, "operation": "claim"}
                )
                await self._wait_wake(ERROR_PAUSE)

    async def _claim(self, free: int) -> tuple[list[tuple[Job, bool]], list[str]]:
        """Claim up to ``free`` jobs: (job, is_probe) pairs, and the types worth waiting on."""
        handled = self._registry.types()
        if not handled:
            return [], []
        types, probe_types = await self.breakers.plan(handled)
        claimed: list[tuple[Job, bool]] = []
        lease = self.config.lease_seconds
        waiting = list(types)
        for name in probe_types:
            if name in self._probing:
                continue
            waiting.append(name)
            if len(claimed) < free:
                # A half-open type gets exactly one job: the probe.
                jobs = await self.storage.claim(self.owner, [name], 1, lease)
                claimed.extend((job, True) for job in jobs)
        if types and len(claimed) < free:
            try:
                jobs = await self.storage.claim(self.owner, types, free - len(claimed), lease)
            except JobQueueError:
                if not claimed:
                    raise
                # Run the probes we already hold rather than strand them until expiry.
                logger.warning(
                    "claim failed after a probe claim; running the probe",
                    exc_info=True,
                    extra={"service": SERVICE, "operation": "claim"},
                )
                return claimed, waiting
            claimed.extend((job, False) for job in jobs)
        return claimed, waiting

    async def _release(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            try:
                await self.storage.release(job.lease)
            except LeaseLost:
                continue
            logger.info("job released at shutdown", extra=job_extra(job, "release"))

    async def _idle(self, types: list[str]) -> None:
        if self._wake.is_set():
            return
        timeout = self.config.poll_interval
        now = self.clock.now()
        if types:
            due = await self.storage.next_due(types)
            if due is not None:
                timeout = min(timeout, due - now)
        reopen = self.breakers.next_reopen(self._registry.types())
        if reopen is not None:
            timeout = min(timeout, reopen - now)
        timeout = max(timeout, MIN_IDLE_WAIT)
        if self._wake.is_set():
            return  # woken in this process while next_due ran
        # One waiter, on storage; a wake-up in this process cancels it (see wake()), which
        # costs fewer event loop steps than racing a second waiter on the event.
        sleeper = asyncio.ensure_future(self._changes.wait(timeout))
        self._sleeper = sleeper
        try:
            await asyncio.wait((sleeper,), timeout=timeout)
        finally:
            self._sleeper = None
            if not sleeper.done():
                sleeper.cancel()
                # A cancelled watch takes its place as it unwinds: let it, before looking
                # again.
                await asyncio.wait((sleeper,))
        if not sleeper.cancelled():
            sleeper.result()  # a watch that failed: the dispatcher logs it and pauses

    async def _wait_wake(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    # -- heartbeats --------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._beat_wake.clear()
            try:
                if not self._running:
                    self._beat_deadline = math.inf
                    await self._beat_wake.wait()
                    continue
                deadline = min(run.next_beat for run in self._running.values())
                self._beat_deadline = deadline
                delay = deadline - loop.time()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._beat_wake.wait()
                    continue
                now = loop.time()
                # Beat everything due within a sixth of its lease too: fewer wake-ups.
                due = [
                    run
                    for run in self._running.values()
                    if run.next_beat <= now + run.lease_seconds / 6
                ]
                await asyncio.gather(*(self._beat(run) for run in due))
            except Exception:
                logger.exception(
                    "heartbeat loop error", extra={"service": SERVICE, "operation": "heartbeat"}
                )
                await asyncio.sleep(ERROR_PAUSE)

    async def _beat(self, run: Running) -> None:
        loop = asyncio.get_running_loop()
        if run.settling or run.task is None or run.task.done():
            run.next_beat = math.inf
            return
        try:
            await self.storage.heartbeat(run.lease, run.lease_seconds)
        except LeaseLost:
            run.next_beat = math.inf
            if run.settling or run.task.done() or run.interruption is not None:
                return
            logger.warning(
                "lease lost (job cancelled or taken over); stopping its handler",
                extra=job_extra(run.job, "heartbeat"),
            )
            run.interruption = Interruption.LEASE_LOST
            run.task.cancel()
        except JobQueueError as exc:
            # Try again soon: one missed beat is harmless, a third of the lease remains.
            run.next_beat = loop.time() + min(1.0, run.lease_seconds / 10)
            logger.warning("heartbeat failed: %s", exc, extra=job_extra(run.job, "heartbeat"))
        else:
            run.next_beat = loop.time() + run.lease_seconds / 3

    # -- sweeper -----------------------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        interval = max(self.config.lease_seconds / 2, MIN_IDLE_WAIT)
        while not self._sweep_stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._sweep_stop.wait()
            if self._sweep_stop.is_set():
                break
            try:
                await self.sweep()
            except JobQueueError as exc:
                logger.warning(
                    "sweep failed: %s", exc, extra={"service": SERVICE, "operation": "reclaim"}
                )

    async def sweep(self) -> list[Job]:
        """Reclaim jobs of dead local owners and of expired leases; announce each."""
        dead = [
            owner
            for owner in await self.storage.lease_owners()
            if owner != self.owner and is_dead_local(owner)
        ]
        jobs = await self.storage.reclaim(dead, self.config.max_rescues)
        recovered = False
        for job in jobs:
            if job.status is JobStatus.PENDING:
                recovered = True
                logger.warning(
                    "job recovered from a stalled lease", extra=job_extra(job, "reclaim")
                )
                self.events.publish(EventKind.RECOVERED, job.id, job.type, {"rescues": job.rescues})
            else:
                logger.error(
                    "poison job failed: rescued too many times", extra=job_extra(job, "reclaim")
                )
                self.events.publish(
                    EventKind.FAILED,
                    job.id,
                    job.type,
                    {"attempt": job.attempts, "error": job.last_error, "poison": True},
                )
        if recovered:
            self.wake()
        return jobs


__all__ = ["Worker", "WorkerConfig"]
