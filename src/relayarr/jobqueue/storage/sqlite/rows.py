"""Rows as the SQLite engine's queries return them, turned into domain values.

Every job query selects the same 19 columns in the same order (see queries.sql), so one
positional mapping serves the active table and history alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from relayarr.jobqueue.events import Event, EventKind
from relayarr.jobqueue.models import Job, JobStatus, load_json

_STATUS = {status.value: status for status in JobStatus}
_fromtimestamp = datetime.fromtimestamp


def row_to_job(row: tuple[Any, ...]) -> Job:
    """Map a 19-column job row to a Job (field order differs from column order)."""
    started_at, lease_expires_at, finished_at, parent_id, result = (
        row[9],
        row[15],
        row[17],
        row[12],
        row[18],
    )
    return Job.from_values(
        (
            row[0],  # id
            row[1],  # type
            load_json(row[2]),  # payload
            row[3],  # priority
            _STATUS[row[4]],
            row[5],  # attempts
            row[6],  # max_attempts
            _fromtimestamp(row[7], UTC),  # run_at
            _fromtimestamp(row[8], UTC),  # created_at
            None if started_at is None else _fromtimestamp(started_at, UTC),
            None if finished_at is None else _fromtimestamp(finished_at, UTC),
            row[10],  # last_error
            row[11],  # unique_key
            parent_id,
            None if result is None else load_json(result),
            row[13],  # lease_owner
            None if lease_expires_at is None else _fromtimestamp(lease_expires_at, UTC),
            row[14],  # lease_token
            row[16],  # rescues
        )
    )


def history_params(
    row: tuple[Any, ...],
    status: JobStatus,
    finished_at: float,
    error: str | None,
    result: str | None,
) -> tuple[Any, ...]:
    """Parameters of insert_history for an active row that is finishing now."""
    return (
        row[0],
        row[1],
        row[2],
        row[3],
        status.value,
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        finished_at,
        row[10] if error is None else error,
        row[11],
        row[12],
        row[13],
        row[16],
        result,
    )


def history_row(
    row: tuple[Any, ...],
    status: JobStatus,
    finished_at: float,
    error: str | None,
    result: str | None,
) -> tuple[Any, ...]:
    """The 19-column row the history table now holds for that job (no lease token/expiry)."""
    return (
        *row[:4],
        status.value,
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10] if error is None else error,
        row[11],
        row[12],
        row[13],
        None,
        None,
        row[16],
        finished_at,
        result,
    )


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
