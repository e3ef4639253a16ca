"""Rows as the SQLite engine's queries return them, turned into domain values.

Job rows have the shape both SQL engines share (:mod:`relayarr.jobqueue.storage.sql`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from relayarr.jobqueue.events import Event, EventKind
from relayarr.jobqueue.models import JobStatus, load_json
from relayarr.jobqueue.storage.sql import (
    FINISHED_AT,
    LAST_ERROR,
    LEASE_EXPIRES_AT,
    LEASE_TOKEN,
    RESULT,
    STATUS,
    row_to_job,
)

_fromtimestamp = datetime.fromtimestamp


def history_row(
    row: tuple[Any, ...],
    status: JobStatus,
    finished_at: float,
    error: str | None,
    result: str | None,
) -> tuple[Any, ...]:
    """The job row history keeps for an active ``row`` finishing now: its status, finish
    time and result set, ``error`` (when given) as its last error, its lease gone."""
    done = list(row)
    done[STATUS] = status.value
    done[FINISHED_AT] = finished_at
    if error is not None:
        done[LAST_ERROR] = error
    done[RESULT] = result
    done[LEASE_EXPIRES_AT] = done[LEASE_TOKEN] = None
    return tuple(done)


def history_params(done: tuple[Any, ...]) -> tuple[Any, ...]:
    """insert_history's parameters for a history row (every column but the lease's)."""
    return done[:LEASE_EXPIRES_AT] + done[LEASE_TOKEN + 1 :]


def row_to_event(row: tuple[Any, ...]) -> Event:
    event_id, at, kind, job_id, job_type, data = row
    return Event(
        id=event_id,
        kind=EventKind(kind),
        at=_fromtimestamp(at, UTC),
        job_id=job_id,
        job_type=job_type,
        data=load_json(data),  # type: ignore[arg-type]  # always an object: we wrote it
    )


__all__ = ["history_params", "history_row", "row_to_event", "row_to_job"]
