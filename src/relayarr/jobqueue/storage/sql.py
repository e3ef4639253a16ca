"""What both SQL engines share: named SQL blocks loaded from files, and one row shape.

A file holds blocks introduced by ``-- name: <name>`` and a one-line purpose comment; each
block runs to the next ``-- name:`` line. Loaded once, never built from f-strings.

Every job query of both engines selects the 19 fields of :class:`Job` in declaration order
(times as epoch seconds, payload and result as JSON text, NULL for what a table does not
keep), so :func:`row_to_job` maps every job row of either engine, and code that reads one
column names it by its field (``row[LEASE_OWNER]``). Event-log and breaker rows have one
shape too (:func:`row_to_event`, :func:`row_to_breaker`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from relayarr.jobqueue.events import Event, EventKind
from relayarr.jobqueue.models import (
    BreakerPhase,
    BreakerState,
    Job,
    JobStatus,
    dump_json,
    load_json,
)

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def load_queries(package: str, resource: str = "queries.sql") -> dict[str, str]:
    """Parse ``resource`` in ``package`` into {name: sql}; duplicate names are an error."""
    text = files(package).joinpath(resource).read_text(encoding="utf-8")
    queries: dict[str, str] = {}
    parts = _NAME.split(text)
    # parts = [preamble, name1, body1, name2, body2, ...]
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"duplicate query name {name!r} in {package}/{resource}")
        queries[name] = body.strip()
    return queries


def load_migrations(package: str) -> list[tuple[int, str, str]]:
    """Numbered migration files ``NNNN_name.sql`` in ``package``, sorted: (number, name, sql)."""
    found: list[tuple[int, str, str]] = []
    for entry in files(package).iterdir():
        match = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"migrations in {package} are not numbered 1..n: {numbers}")
    return found


# Positions in a job row: Job's fields in declaration order.
(
    ID,
    TYPE,
    PAYLOAD,
    PRIORITY,
    STATUS,
    ATTEMPTS,
    MAX_ATTEMPTS,
    RUN_AT,
    CREATED_AT,
    STARTED_AT,
    FINISHED_AT,
    LAST_ERROR,
    UNIQUE_KEY,
    PARENT_ID,
    RESULT,
    LEASE_OWNER,
    LEASE_EXPIRES_AT,
    LEASE_TOKEN,
    RESCUES,
) = range(19)

_STATUS = {status.value: status for status in JobStatus}
_KINDS = {kind.value: kind for kind in EventKind}
_fromtimestamp = datetime.fromtimestamp


def row_to_job(row: Sequence[Any]) -> Job:
    """A job row (Job's fields in order, times as epoch seconds, JSON as text) as a Job."""
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
        finished_at,
        last_error,
        unique_key,
        parent_id,
        result,
        lease_owner,
        lease_expires_at,
        lease_token,
        rescues,
    ) = row
    return Job.from_values(
        (
            job_id,
            job_type,
            load_json(payload),
            priority,
            _STATUS[status],
            attempts,
            max_attempts,
            _fromtimestamp(run_at, UTC),
            _fromtimestamp(created_at, UTC),
            None if started_at is None else _fromtimestamp(started_at, UTC),
            None if finished_at is None else _fromtimestamp(finished_at, UTC),
            last_error,
            unique_key,
            parent_id,
            None if result is None else load_json(result),
            lease_owner,
            None if lease_expires_at is None else _fromtimestamp(lease_expires_at, UTC),
            lease_token,
            rescues,
        )
    )


def history_row(
    row: Sequence[Any],
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
    """A history row's columns as the history table stores them: all but the lease's."""
    return done[:LEASE_EXPIRES_AT] + done[LEASE_TOKEN + 1 :]


def restore_params(row: Sequence[Any], run_at: float) -> tuple[Any, ...]:
    """The ``restore`` query's parameters for a history ``row`` going back to pending,
    due at ``run_at``: what a retried job keeps of itself (attempts start again)."""
    return (
        row[ID],
        row[TYPE],
        row[PAYLOAD],
        row[PRIORITY],
        row[MAX_ATTEMPTS],
        run_at,
        row[CREATED_AT],
        row[LAST_ERROR],
        row[UNIQUE_KEY],
        row[PARENT_ID],
    )


def row_to_event(row: Sequence[Any]) -> Event:
    """An event-log row (id, at, kind, job_id, job_type, data), as both SQL engines store
    it, to an Event."""
    event_id, at, kind, job_id, job_type, data = row
    return Event(
        id=event_id,
        kind=_KINDS[kind],
        at=_fromtimestamp(at, UTC),
        job_id=job_id,
        job_type=job_type,
        data=load_json(data),  # type: ignore[arg-type]  # always an object: we wrote it
    )


def row_to_breaker(row: Sequence[Any]) -> BreakerState:
    """A breakers-table row (name, phase, failures, opened_at, reopen_at, trips,
    probe_owner, updated_at), as both SQL engines store it, to a BreakerState."""
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
    """The breakers-table columns of a BreakerState, in row_to_breaker's order."""
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


# -- moving jobs between engines (JobImport): the same parameter order in both SQL engines --


def pending_import_params(job: Job) -> tuple[Any, ...]:
    """``import_pending``'s parameters for a pending job."""
    return (
        job.id,
        job.type,
        dump_json(job.payload, "payload"),
        job.priority,
        job.attempts,
        job.max_attempts,
        job.run_at.timestamp(),
        job.created_at.timestamp(),
        None if job.started_at is None else job.started_at.timestamp(),
        job.last_error,
        job.unique_key,
        job.parent_id,
        job.rescues,
    )


def finished_import_params(job: Job) -> tuple[Any, ...]:
    """``import_finished``'s parameters for a finished job (one without a finish time
    counts as finished when it was created)."""
    return (
        job.id,
        job.type,
        dump_json(job.payload, "payload"),
        job.priority,
        job.status.value,
        job.attempts,
        job.max_attempts,
        job.run_at.timestamp(),
        job.created_at.timestamp(),
        None if job.started_at is None else job.started_at.timestamp(),
        (job.finished_at or job.created_at).timestamp(),
        job.last_error,
        job.unique_key,
        job.parent_id,
        job.lease_owner,
        job.rescues,
        None if job.result is None else dump_json(job.result, "result"),
    )
