"""Rows as the SQLite engine's queries return them, turned into domain values.

Every job query selects the same 19 columns in the same order (see queries.sql), so one
positional mapping serves the active table and history alike.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from relayarr.jobqueue.models import BreakerPhase, BreakerState, Job, JobId, JobStatus

_STATUS = {status.value: status for status in JobStatus}
_fromtimestamp = datetime.fromtimestamp


def _moment(value: float | None) -> datetime | None:
    return None if value is None else _fromtimestamp(value, UTC)


def row_to_job(row: tuple[Any, ...]) -> Job:
    """Map a 19-column job row to a Job."""
    (
        job_id,
        job_type,
        payload,
        priority,
        status,
        attempts,
        max_attempts,
        run_at,
        created_at,
        started_at,
        last_error,
        unique_key,
        parent_id,
        lease_owner,
        lease_token,
        lease_expires_at,
        rescues,
        finished_at,
        result,
    ) = row
    return Job(
        id=JobId(job_id),
        type=job_type,
        payload=json.loads(payload),
        priority=priority,
        status=_STATUS[status],
        attempts=attempts,
        max_attempts=max_attempts,
        run_at=_fromtimestamp(run_at, UTC),
        created_at=_fromtimestamp(created_at, UTC),
        started_at=_moment(started_at),
        finished_at=_moment(finished_at),
        last_error=last_error,
        unique_key=unique_key,
        parent_id=None if parent_id is None else JobId(parent_id),
        result=None if result is None else json.loads(result),
        lease_owner=lease_owner,
        lease_expires_at=_moment(lease_expires_at),
        lease_token=lease_token,
        rescues=rescues,
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


def row_to_breaker(row: tuple[Any, ...]) -> BreakerState:
    name, phase, failures, opened_at, reopen_at, trips, probe_owner, updated_at = row
    return BreakerState(
        name=name,
        phase=BreakerPhase(phase),
        failures=failures,
        opened_at=opened_at,
        reopen_at=reopen_at,
        trips=trips,
        probe_owner=probe_owner,
        updated_at=updated_at,
    )


def breaker_params(state: BreakerState) -> tuple[Any, ...]:
    return (
        state.name,
        state.phase.value,
        state.failures,
        state.opened_at,
        state.reopen_at,
        state.trips,
        state.probe_owner,
        state.updated_at,
    )
