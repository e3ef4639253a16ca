"""Running one claimed job: call its handler, then record what happened.

Outcomes, in order of precedence:

* the worker interrupted the job (lease lost, cancelled, shutting down): write nothing, or
  release it unrun when shutting down;
* the handler returned: complete, storing the result and adding follow-ups atomically;
* it raised :class:`Snooze`: back to pending at ``now + delay``, the attempt not counted;
* it raised :class:`PermanentFailure`, or this was its last attempt: fail for good;
* it raised anything else (or timed out): back to pending at ``now + delay``, where the
  delay is :class:`Retry`'s or exponential backoff with jitter.

Only handler exceptions and timeouts count against the type's circuit breaker; the
handler signals do not (the handler chose them, the service it calls is not down).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from relayarr.jobqueue.breakerboard import BreakerBoard
from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.context import bind_job, job_extra, unbind_job
from relayarr.jobqueue.errors import (
    HandlerSignal,
    InvalidJob,
    LeaseLost,
    PermanentFailure,
    Retry,
    Snooze,
)
from relayarr.jobqueue.events import EventBus, EventKind
from relayarr.jobqueue.handlers import Complete, JobSpec, Registration
from relayarr.jobqueue.models import Added, Job, JobId, JSONValue, Lease, NewJob, dump_json
from relayarr.jobqueue.retry import RetryPolicy
from relayarr.jobqueue.storage import Storage

logger = logging.getLogger(__name__)

PrepareFollowUps = Callable[[Sequence[JobSpec], float, JobId], list[NewJob]]
"""Validate a handler's follow-ups at ``now`` as children of a job, as the queue validates
every job it adds (:class:`InvalidJob` when one is bad)."""

Announce = Callable[[Sequence[Added]], None]
"""Tell the queue jobs were added (its "added" events, its dispatcher's wake-up)."""

MAX_ERROR_CHARS = 4000


class Interruption(Enum):
    """Why the worker cancelled a handler; each one means "write nothing" or "release"."""

    LEASE_LOST = "lease lost"
    CANCELLED = "cancelled"
    STOPPING = "stopping"


class HandlerTimeout(Exception):
    """The handler ran past its ``timeout`` option; recorded as a failure."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g}s")
        self.seconds = seconds


@dataclass(eq=False, slots=True)
class Running:
    """A job this worker holds: its lease, its handler task and heartbeat schedule."""

    job: Job
    lease: Lease
    registration: Registration
    lease_seconds: float
    probe: bool = False
    next_beat: float = 0.0  # loop time of the next heartbeat
    interruption: Interruption | None = None
    settling: bool = False  # the outcome is being written: never cancel now
    started: bool = False  # the task's body began (so it records its own outcome)
    task: asyncio.Task[None] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Runner:
    """What running a job needs: where outcomes are written and told, and the queue's
    retry policy and two services (validating follow-ups, announcing added jobs)."""

    storage: Storage
    clock: Clock
    events: EventBus
    breakers: BreakerBoard
    retry: RetryPolicy
    prepare_follow_ups: PrepareFollowUps
    announce: Announce


def describe_error(exc: BaseException) -> str:
    """The error text stored on the job: ``ExcType: message``, cut to a few KB. Characters
    no storage can hold (lone surrogates, as from a file name read with surrogateescape) are
    written out as ``\\udcxx`` escapes: the failure is recorded rather than refused."""
    name = "TimeoutError" if isinstance(exc, HandlerTimeout) else type(exc).__name__
    message = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
    text = f"{name}: {message}" if message else name
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 15] + "... [truncated]"
    return text


async def run_job(runner: Runner, run: Running) -> None:
    """The body of one job's task; never raises except a cancellation it did not ask for."""
    run.started = True
    job = run.job
    loop = asyncio.get_running_loop()
    token = bind_job(job)
    started = loop.time()
    if runner.events.active:
        runner.events.publish(EventKind.STARTED, job.id, job.type, {"attempt": job.attempts})
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("job started", extra=job_extra(job, "run"))
    try:
        try:
            result = await _call(run)
        except asyncio.CancelledError:
            if run.interruption is None:
                raise  # not ours (the loop is shutting down): let it through
            _uncancel()
            await _interrupted(runner, run)
        except Exception as exc:
            if run.interruption is not None:
                await _interrupted(runner, run)
            elif isinstance(exc, Snooze):
                await _snoozed(runner, run, exc)
            else:
                await _failed(runner, run, exc, _ms(loop.time() - started))
        else:
            if run.interruption in (Interruption.LEASE_LOST, Interruption.CANCELLED):
                await _interrupted(runner, run)
            else:
                await _succeeded(runner, run, result, _ms(loop.time() - started))
    except Exception:
        # Storage failed while recording the outcome. The job keeps its lease until it
        # expires, then the sweep puts it back: at-least-once, never lost.
        logger.exception("job outcome could not be recorded", extra=job_extra(job, "record"))
    finally:
        unbind_job(token)


def _uncancel() -> None:
    # We swallowed a cancellation we asked for; clear it so later awaits in this task
    # (the release at shutdown) and any timeout scopes behave normally.
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


async def _call(run: Running) -> object:
    timeout = run.registration.timeout
    if timeout is None:
        return await run.registration.fn(run.job)
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            return await run.registration.fn(run.job)
    except TimeoutError:
        # Only our own deadline is a timeout; a TimeoutError the handler raised itself is
        # an ordinary failure with its own message.
        if scope.expired():
            raise HandlerTimeout(timeout) from None
        raise


async def _interrupted(runner: Runner, run: Running) -> None:
    job = run.job
    if run.interruption is Interruption.STOPPING:
        run.settling = True
        try:
            await runner.storage.release(run.lease)
        except LeaseLost:
            logger.info(
                "job released at shutdown, but its lease was already gone",
                extra=job_extra(job, "release"),
            )
            return
        logger.info("job released at shutdown", extra=job_extra(job, "release"))
    elif run.interruption is Interruption.LEASE_LOST:
        logger.warning("handler stopped: lease lost", extra=job_extra(job, "run"))
    else:
        logger.info("handler stopped: job cancelled", extra=job_extra(job, "run"))


def _prepare_outcome(
    runner: Runner, run: Running, result: object
) -> tuple[str | None, list[NewJob]]:
    value, specs = (
        (result.result, result.follow_ups) if isinstance(result, Complete) else (result, ())
    )
    result_json = None if value is None else dump_json(value, f"result of {run.job.type!r} handler")
    if not specs:
        return result_json, []
    return result_json, runner.prepare_follow_ups(specs, runner.clock.now(), run.job.id)


async def _succeeded(runner: Runner, run: Running, result: object, duration_ms: float) -> None:
    job = run.job
    try:
        result_json, follow_ups = _prepare_outcome(runner, run, result)
    except InvalidJob as exc:
        # A bad result or follow-up is a bug in the handler: fail the attempt so it shows.
        await _failed(runner, run, exc, duration_ms)
        return
    run.settling = True
    try:
        _, added = await runner.storage.complete(run.lease, result_json, follow_ups)
    except LeaseLost:
        logger.warning(
            "job finished but its lease was lost; result dropped",
            extra=job_extra(job, "complete", duration_ms=duration_ms),
        )
        return
    if logger.isEnabledFor(logging.INFO):
        logger.info("job completed", extra=job_extra(job, "complete", duration_ms=duration_ms))
    if runner.events.active:
        runner.events.publish(
            EventKind.COMPLETED,
            job.id,
            job.type,
            {"attempt": job.attempts, "duration_ms": duration_ms, "follow_ups": len(added)},
        )
    if added:
        runner.announce(added)
    await runner.breakers.record_success(job.type)


async def _snoozed(runner: Runner, run: Running, snooze: Snooze) -> None:
    job = run.job
    run_at = runner.clock.now() + snooze.delay
    run.settling = True
    try:
        updated = await runner.storage.release(run.lease, run_at, snooze.reason)
    except LeaseLost:
        logger.warning("job snoozed but its lease was lost", extra=job_extra(job, "snooze"))
        return
    logger.info("job snoozed: %s", snooze.reason, extra=job_extra(job, "snooze"))
    if runner.events.active:
        data: dict[str, JSONValue] = {
            "attempt": job.attempts,
            "snoozed": True,
            "reason": snooze.reason,
            "retry_at": datetime.fromtimestamp(run_at, UTC).isoformat(),
        }
        runner.events.publish(EventKind.RETRYING, updated.id, updated.type, data)


async def _failed(runner: Runner, run: Running, exc: Exception, duration_ms: float) -> None:
    job = run.job
    final = isinstance(exc, PermanentFailure) or job.attempts >= job.max_attempts
    retry_at: float | None = None
    if not final:
        delay = exc.delay if isinstance(exc, Retry) and exc.delay is not None else None
        if delay is None:
            delay = runner.retry.delay(job.attempts)
        retry_at = runner.clock.now() + delay
    error = describe_error(exc)
    _log_failure(job, exc, error, final, duration_ms)
    counts_against_breaker = not isinstance(exc, HandlerSignal)
    run.settling = True
    try:
        updated = await runner.storage.fail(run.lease, error, retry_at)
    except LeaseLost:
        logger.warning(
            "job failed but its lease was lost; outcome dropped",
            extra=job_extra(job, "fail", duration_ms=duration_ms),
        )
    else:
        if runner.events.active:
            kind = EventKind.FAILED if retry_at is None else EventKind.RETRYING
            data: dict[str, JSONValue] = {
                "attempt": job.attempts,
                "error": error,
                "duration_ms": duration_ms,
            }
            if retry_at is not None:
                data["retry_at"] = datetime.fromtimestamp(retry_at, UTC).isoformat()
            runner.events.publish(kind, updated.id, updated.type, data)
    if counts_against_breaker:
        await runner.breakers.record_failure(job.type)


def _log_failure(job: Job, exc: Exception, error: str, final: bool, duration_ms: float) -> None:
    extra = job_extra(job, "fail", duration_ms=duration_ms)
    verdict = "failed" if final else "will retry"
    if isinstance(exc, Retry):
        logger.info("job asked for a retry; %s: %s", verdict, exc.reason, extra=extra)
    elif isinstance(exc, PermanentFailure | HandlerTimeout):
        logger.warning("job %s: %s", verdict, error, extra=extra)
    else:
        logger.warning("job raised; %s: %s", verdict, error, exc_info=exc, extra=extra)


__all__ = [
    "Announce",
    "HandlerTimeout",
    "Interruption",
    "PrepareFollowUps",
    "Runner",
    "Running",
    "describe_error",
    "run_job",
]
