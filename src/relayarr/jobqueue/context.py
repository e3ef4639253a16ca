"""The job being run by the current task, and a logging filter that stamps it on records.

The worker binds each job to a :class:`~contextvars.ContextVar` before calling its
handler, so anything the handler logs (and any task it spawns) carries the job's id, type
and attempt without passing them around.

>>> handler = logging.StreamHandler()  # doctest: +SKIP
>>> handler.addFilter(JobContextFilter())
>>> handler.setFormatter(logging.Formatter("%(job_id)s %(type)s %(message)s"))
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token

from relayarr.jobqueue.models import Job

_current_job: ContextVar[Job | None] = ContextVar("relayarr_jobqueue_current_job", default=None)

SERVICE = "jobqueue"


def current_job() -> Job | None:
    """The job whose handler is running in this task (or its children), if any."""
    return _current_job.get()


def bind_job(job: Job | None) -> Token[Job | None]:
    """Make ``job`` current in this context; undo with :func:`unbind_job`."""
    return _current_job.set(job)


def unbind_job(token: Token[Job | None]) -> None:
    """Restore the job that was current before :func:`bind_job`."""
    _current_job.reset(token)


class JobContextFilter(logging.Filter):
    """Adds ``job_id``, ``type`` and ``attempt`` of the current job to every record.

    Values given explicitly in ``extra=`` win. Outside a job the attributes are None, so a
    format string naming them never fails. Attach it to a *handler* (not a logger) so it
    sees records from every library logger that propagates there.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        job = _current_job.get()
        if not hasattr(record, "job_id"):
            record.job_id = job.id if job is not None else None
        if not hasattr(record, "type"):
            record.type = job.type if job is not None else None
        if not hasattr(record, "attempt"):
            record.attempt = job.attempts if job is not None else None
        return True


def job_extra(job: Job, operation: str, **more: object) -> dict[str, object]:
    """The ``extra=`` mapping the queue logs with for ``job`` (never its payload or lease)."""
    return {
        "service": SERVICE,
        "operation": operation,
        "job_id": job.id,
        "type": job.type,
        "attempt": job.attempts,
        **more,
    }


__all__ = ["SERVICE", "JobContextFilter", "bind_job", "current_job", "job_extra", "unbind_job"]
