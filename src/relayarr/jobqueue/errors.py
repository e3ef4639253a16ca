"""Every error the job queue raises, in one tree.

::

    JobQueueError
    ├── InvalidJob            bad input to add_job: type, payload, priority, delay...
    ├── UnknownJobType        a type with no registered handler (when the queue checks)
    ├── JobNotFound           no job with that id, active or in history
    ├── InvalidTransition     the job is not in a state that allows the operation
    ├── LeaseLost             a fenced write by a worker whose lease is gone
    ├── StorageError          the storage engine failed; always names the database
    │   ├── StorageUnavailable   missing, unreadable, read-only, corrupt or unreachable
    │   ├── StorageBusy          locked by someone else for longer than the timeout
    │   ├── InvalidURL           a queue URL no engine understands
    │   └── DriverMissing        the engine's driver is not installed (names the command)
    └── HandlerSignal         raised *by handlers* to steer their job
        ├── Retry                run again after ``delay`` seconds
        ├── Snooze               wait ``delay`` seconds, the attempt not counted
        └── PermanentFailure     fail now, without further attempts

Engines translate driver exceptions at their boundary (``raise StorageError(...) from exc``),
so callers only ever see this tree.
"""

from __future__ import annotations


class JobQueueError(Exception):
    """Root of every error raised by :mod:`relayarr.jobqueue`."""


class InvalidJob(JobQueueError, ValueError):
    """A job was described wrongly; nothing was stored."""


class UnknownJobType(InvalidJob):
    """The job type has no handler, and the queue was asked to insist on one."""

    def __init__(self, job_type: str) -> None:
        super().__init__(f"unknown job type {job_type!r}: no handler is registered for it")
        self.job_type = job_type


class JobNotFound(JobQueueError, LookupError):
    """No job with that id exists, neither active nor in history."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id} not found")
        self.job_id = job_id


class InvalidTransition(JobQueueError):
    """The job's current status does not allow the requested operation."""


class LeaseLost(JobQueueError):
    """The caller's lease on a job expired or was taken over; nothing was changed."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"lease on job {job_id} was lost; the write was refused")
        self.job_id = job_id


class StorageError(JobQueueError):
    """The storage engine failed. ``where`` names the database (never with a password)."""

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(f"{message} ({where})" if where else message)
        self.where = where


class StorageUnavailable(StorageError):
    """The database cannot be used: missing, unreadable, read-only, corrupt or unreachable."""


class StorageBusy(StorageError):
    """The database stayed locked by another connection for longer than the busy timeout."""


class InvalidURL(StorageError):
    """The queue URL has an unknown scheme or a malformed path."""


class DriverMissing(StorageError):
    """The driver an engine needs is not installed; the message names the install command."""


class HandlerSignal(JobQueueError):
    """Base for exceptions a handler raises on purpose to steer its job."""


class Retry(HandlerSignal):
    """Raise from a handler to run the job again after ``delay`` seconds.

    The attempt still counts: a job that keeps asking for retries fails once it reaches
    its ``max_attempts``.

    >>> raise Retry(delay=30, reason="player is busy")  # doctest: +SKIP
    """

    def __init__(self, delay: float | None = None, reason: str = "retry requested") -> None:
        super().__init__(reason)
        if delay is not None and delay < 0:
            raise InvalidJob(f"Retry delay must be >= 0, got {delay}")
        self.delay = delay
        self.reason = reason


class Snooze(HandlerSignal):
    """Raise from a handler to put its job back, due again in ``delay`` seconds, without
    counting the attempt: for waiting on something outside the job (a mount that is down,
    a player that is busy) that is not the job failing. ``reason`` becomes the job's last
    error, so the wait shows. A job may snooze any number of times.

    >>> raise Snooze(delay=60, reason="waiting for /srv/media to be mounted")  # doctest: +SKIP
    """

    def __init__(self, delay: float, reason: str = "snoozed") -> None:
        super().__init__(reason)
        if not delay >= 0:
            raise InvalidJob(f"Snooze delay must be >= 0, got {delay}")
        self.delay = delay
        self.reason = reason


class PermanentFailure(HandlerSignal):
    """Raise from a handler to fail the job now, without using its remaining attempts."""
