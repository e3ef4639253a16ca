"""What handlers are, what they may return, and the options they are registered with."""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from relayarr.jobqueue.breaker import BreakerPolicy
from relayarr.jobqueue.models import DEFAULT_PRIORITY, Job, JSONValue

Handler = Callable[[Job], Awaitable[object]]
"""``async def handler(job: Job) -> None | JSON value | Complete``."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job to add later: a follow-up returned in :class:`Complete`, or one of a batch for
    :meth:`JobQueue.add_jobs`. Fields mean what :meth:`JobQueue.add_job` says."""

    type: str
    payload: Mapping[str, object] | None = None
    priority: int = DEFAULT_PRIORITY
    delay: float = 0.0
    run_at: datetime | None = None
    max_attempts: int | None = None
    unique_key: str | None = None
    debounce: bool = False
    parent_id: int | None = None


@dataclass(frozen=True, slots=True)
class Complete:
    """Return from a handler to store ``result`` and add ``follow_ups`` atomically with the
    completion: either the job completes and every follow-up exists, or neither happens.

    Follow-ups without a ``parent_id`` get the finishing job's id.

    >>> return Complete(  # doctest: +SKIP
    ...     result={"files": 3}, follow_ups=[JobSpec("enrich", {"id": 7})]
    ... )
    """

    result: JSONValue = None
    follow_ups: Sequence[JobSpec] = ()


@dataclass(frozen=True, slots=True)
class Registration:
    """A handler and its per-type options, validated; ``breaker`` None means disabled."""

    type: str
    fn: Handler
    max_attempts: int | None
    timeout: float | None
    lease_seconds: float | None
    breaker: BreakerPolicy | None


def _positive(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
    return float(value)


def make_registration(
    job_type: str,
    fn: Handler,
    *,
    max_attempts: int | None,
    timeout: float | None,
    lease_seconds: float | None,
    breaker: BreakerPolicy | bool | None,
    default_breaker: BreakerPolicy | None,
) -> Registration:
    """Check a handler and its options; raise TypeError/ValueError on misuse."""
    if not isinstance(job_type, str) or not job_type:
        raise ValueError(f"job type must be a non-empty string, got {job_type!r}")
    is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    )
    if not is_async:
        raise TypeError(f"handler for {job_type!r} must be an async function, got {fn!r}")
    if max_attempts is not None and (type(max_attempts) is not int or max_attempts < 1):
        raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
    if breaker is None or breaker is True:
        policy = default_breaker
    elif breaker is False:
        policy = None
    elif isinstance(breaker, BreakerPolicy):
        policy = breaker
    else:
        raise TypeError(f"breaker must be a BreakerPolicy, False or None, got {breaker!r}")
    return Registration(
        type=job_type,
        fn=fn,
        max_attempts=max_attempts,
        timeout=_positive("timeout", timeout),
        lease_seconds=_positive("lease_seconds", lease_seconds),
        breaker=policy,
    )


__all__ = ["Complete", "Handler", "JobSpec", "Registration", "make_registration"]
