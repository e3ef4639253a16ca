"""What handlers are, what they may return, and the options they are registered with."""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
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


def seconds(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Check a duration option: a finite number of seconds, > 0 (or >= 0 if allowed)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound}, got {value!r}")
    return float(value)


class HandlerRegistry:
    """The handlers of one node by job type, and the types it merely knows of.

    A type is *known* when it has a handler here or was declared (a producer-only node
    enqueues jobs that other nodes run); strict queues accept only known types.
    """

    def __init__(self, default_breaker: BreakerPolicy | None) -> None:
        self._default_breaker = default_breaker
        self._handlers: dict[str, Registration] = {}
        self.known: set[str] = set()

    def add(
        self,
        job_type: str,
        fn: Handler,
        *,
        max_attempts: int | None,
        timeout: float | None,
        lease_seconds: float | None,
        breaker: BreakerPolicy | bool | None,
    ) -> Registration:
        """Check and store a handler; ValueError/TypeError on misuse or a second handler."""
        if not isinstance(job_type, str) or not job_type:
            raise ValueError(f"job type must be a non-empty string, got {job_type!r}")
        if job_type in self._handlers:
            raise ValueError(f"job type {job_type!r} already has a handler")
        is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
        )
        if not is_async:
            raise TypeError(f"handler for {job_type!r} must be an async function, got {fn!r}")
        if max_attempts is not None and (type(max_attempts) is not int or max_attempts < 1):
            raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        if breaker is None or breaker is True:
            policy = self._default_breaker
        elif breaker is False:
            policy = None
        elif isinstance(breaker, BreakerPolicy):
            policy = breaker
        else:
            raise TypeError(f"breaker must be a BreakerPolicy, False or None, got {breaker!r}")
        registration = Registration(
            type=job_type,
            fn=fn,
            max_attempts=max_attempts,
            timeout=None if timeout is None else seconds("timeout", timeout),
            lease_seconds=None
            if lease_seconds is None
            else seconds("lease_seconds", lease_seconds),
            breaker=policy,
        )
        self._handlers[job_type] = registration
        self.known.add(job_type)
        return registration

    def declare(self, job_types: Iterable[str]) -> None:
        """Know these types without handling them here."""
        for job_type in job_types:
            if not isinstance(job_type, str) or not job_type:
                raise ValueError(f"job type must be a non-empty string, got {job_type!r}")
            self.known.add(job_type)

    def get(self, job_type: str) -> Registration | None:
        return self._handlers.get(job_type)

    def breaker_policy(self, job_type: str) -> BreakerPolicy | None:
        """The breaker policy of a handled type (None when it has none); the default for
        any other type."""
        registration = self._handlers.get(job_type)
        return registration.breaker if registration is not None else self._default_breaker

    def __getitem__(self, job_type: str) -> Registration:
        return self._handlers[job_type]

    def types(self) -> list[str]:
        """Types with a handler here, in registration order."""
        return list(self._handlers)


__all__ = ["Complete", "Handler", "HandlerRegistry", "JobSpec", "Registration", "seconds"]
