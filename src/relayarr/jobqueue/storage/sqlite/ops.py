"""The SQLite engine's operations: plain functions run on a connection, inside the
transaction the writer (or a reader) opened. No I/O policy lives here: which thread, which
batch and when to commit are :mod:`.writer`'s and the engine's business.

Every operation raises its domain errors (LeaseLost, JobNotFound...) before it writes
anything, which is what lets the writer run a batch of them in one transaction: a refused
operation leaves nothing to undo.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import orjson

from relayarr.jobqueue.bulk import paused_gc
from relayarr.jobqueue.errors import InvalidTransition, JobNotFound, LeaseLost
from relayarr.jobqueue.events import Event
from relayarr.jobqueue.models import (
    Added,
    BreakerState,
    Job,
    JobId,
    JobQuery,
    JobStatus,
    Lease,
    NewJob,
    Page,
    QueueStats,
    dump_json,
)
from relayarr.jobqueue.rescue import rescue_failure, rescue_note
from relayarr.jobqueue.storage.answers import FINISHED_WINDOW, page_of, queue_stats
from relayarr.jobqueue.storage.rules import check_breaker_name
from relayarr.jobqueue.storage.sql import (
    ATTEMPTS,
    ID,
    LAST_ERROR,
    LEASE_OWNER,
    MAX_ATTEMPTS,
    PRIORITY,
    RESCUES,
    RUN_AT,
    STATUS,
    UNIQUE_KEY,
    breaker_params,
    history_params,
    history_row,
    load_queries,
    restore_params,
    row_to_breaker,
    row_to_event,
    row_to_job,
)

Q = load_queries(__package__ or "relayarr.jobqueue.storage.sqlite")
NO_CURSOR = 2**63 - 1
_fromtimestamp = datetime.fromtimestamp


# -- the worker's path ---------------------------------------------------------------------


def claim(
    conn: sqlite3.Connection,
    owner: str,
    types: Sequence[str],
    limit: int,
    lease_seconds: float,
    now: float,
) -> list[Job]:
    """Lease up to ``limit`` due jobs of ``types`` under one fresh token, in claim order."""
    params = {
        "now": now,
        "owner": owner,
        "token": secrets.token_hex(16),
        "expires": now + lease_seconds,
        "types": json.dumps(list(types)),
        "limit": limit,
    }
    rows = conn.execute(Q["claim"], params).fetchall()
    rows.sort(key=lambda row: (row[PRIORITY], row[RUN_AT], row[ID]))  # RETURNING has no order
    return [row_to_job(row) for row in rows]


def heartbeat(conn: sqlite3.Connection, lease: Lease, now: float, expires: float) -> float:
    cursor = conn.execute(Q["heartbeat"], (expires, lease.job_id, lease.token, now))
    if cursor.rowcount != 1:
        raise LeaseLost(lease.job_id)
    return expires


def complete(
    conn: sqlite3.Connection,
    lease: Lease,
    result_json: str | None,
    follow_ups: Sequence[NewJob],
    now: float,
) -> tuple[Job, list[Added]]:
    row = conn.execute(Q["take_leased"], (lease.job_id, lease.token, now)).fetchone()
    if row is None:
        raise LeaseLost(lease.job_id)
    done = archive(conn, row, JobStatus.COMPLETED, now, None, result_json)
    return done, add(conn, follow_ups, now) if follow_ups else []


def fail(
    conn: sqlite3.Connection, lease: Lease, error: str, retry_at: float | None, now: float
) -> Job:
    if retry_at is None:
        row = conn.execute(Q["take_leased"], (lease.job_id, lease.token, now)).fetchone()
        if row is None:
            raise LeaseLost(lease.job_id)
        return archive(conn, row, JobStatus.FAILED, now, error, None)
    return _requeue(conn, lease, retry_at, error, uncount=False, now=now)


def release(
    conn: sqlite3.Connection, lease: Lease, now: float, run_at: float | None, note: str | None
) -> Job:
    error = note
    if error is None:
        # Keep the last error of an earlier attempt: a release is not a failure.
        current = conn.execute(Q["get_active"], (lease.job_id,)).fetchone()
        error = current[LAST_ERROR] if current is not None else None
    return _requeue(conn, lease, now if run_at is None else run_at, error, uncount=True, now=now)


def _requeue(
    conn: sqlite3.Connection,
    lease: Lease,
    run_at: float,
    error: str | None,
    *,
    uncount: bool,
    now: float,
) -> Job:
    params = {
        "run_at": run_at,
        "error": error,
        "uncount": int(uncount),
        "id": lease.job_id,
        "token": lease.token,
        "now": now,
    }
    row = conn.execute(Q["requeue_leased"], params).fetchone()
    if row is None:
        raise LeaseLost(lease.job_id)
    conn.execute(Q["count_requeue"])
    return row_to_job(row)


# -- steering ------------------------------------------------------------------------------


def cancel(conn: sqlite3.Connection, job_id: JobId, now: float) -> Job:
    row = conn.execute(Q["take_active"], (job_id,)).fetchone()
    if row is None:
        if conn.execute(Q["get_history"], (job_id,)).fetchone() is not None:
            raise InvalidTransition(f"job {job_id} has already finished")
        raise JobNotFound(job_id)
    return archive(conn, row, JobStatus.CANCELLED, now, None, None)


def retry(conn: sqlite3.Connection, job_id: JobId, now: float) -> Job:
    row = conn.execute(Q["get_history"], (job_id,)).fetchone()
    if row is None:
        if conn.execute(Q["get_active"], (job_id,)).fetchone() is not None:
            raise InvalidTransition(f"job {job_id} is still active")
        raise JobNotFound(job_id)
    if row[STATUS] == JobStatus.COMPLETED:
        raise InvalidTransition(f"job {job_id} completed; only failed or cancelled jobs")
    unique_key = row[UNIQUE_KEY]
    if unique_key is not None:
        holder = conn.execute(Q["find_unique"], (unique_key,)).fetchone()
        if holder is not None:
            raise InvalidTransition(f"job {holder[0]} already holds unique key {unique_key!r}")
    conn.execute(Q["delete_history"], (job_id,))
    conn.execute(Q["restore"], restore_params(row, now))
    conn.execute(Q["count_requeue"])
    return row_to_job(conn.execute(Q["get_active"], (job_id,)).fetchone())


def reclaim(
    conn: sqlite3.Connection, dead_owners: Sequence[str], max_rescues: int, now: float
) -> list[Job]:
    """Put stalled jobs back to pending or fail them, as the rescue rule decides."""
    rescued: list[Job] = []
    for row in conn.execute(Q["stalled"], (now, json.dumps(list(dead_owners)))).fetchall():
        owner = row[LEASE_OWNER]
        error = rescue_failure(
            rescues=row[RESCUES],
            attempts=row[ATTEMPTS],
            max_attempts=row[MAX_ATTEMPTS],
            max_rescues=max_rescues,
            owner=owner,
        )
        if error is not None:
            conn.execute(Q["take_active"], (row[ID],))
            rescued.append(archive(conn, row, JobStatus.FAILED, now, error, None))
            continue
        note = rescue_note(row[LAST_ERROR], owner)
        rescued.append(row_to_job(conn.execute(Q["rescue"], (now, note, row[ID])).fetchone()))
    if any(job.status is JobStatus.PENDING for job in rescued):
        conn.execute(Q["count_requeue"])
    return rescued


def delete_batch(conn: sqlite3.Connection, params: dict[str, Any]) -> int:
    """Delete one batch of history, first recording the largest id so it is never reused."""
    conn.execute(Q["raise_id_floor"])
    return int(conn.execute(Q["delete_batch"], params).rowcount)


def update_breaker(
    conn: sqlite3.Connection,
    name: str,
    transition: Callable[[BreakerState | None], BreakerState | None],
) -> BreakerState | None:
    row = conn.execute(Q["get_breaker"], (name,)).fetchone()
    new = transition(None if row is None else row_to_breaker(row))
    check_breaker_name(name, new)
    if new is None:
        conn.execute(Q["delete_breaker"], (name,))
    else:
        conn.execute(Q["put_breaker"], breaker_params(new))
    return new


# -- the shared event log ------------------------------------------------------------------


def event_rows(events: Sequence[Event]) -> list[tuple[Any, ...]]:
    return [
        (
            event.at.timestamp(),
            event.kind.value,
            event.job_id,
            event.job_type,
            dump_json(dict(event.data), "event data"),
        )
        for event in events
    ]


def read_events(conn: sqlite3.Connection, after_id: int, limit: int) -> list[Event]:
    return [row_to_event(row) for row in conn.execute(Q["read_events"], (after_id, limit))]


# -- adding, archiving and reading ----------------------------------------------------------


def add(conn: sqlite3.Connection, jobs: Sequence[NewJob], now: float) -> list[Added]:
    """Insert jobs; runs of jobs without unique keys go in one executemany."""
    with paused_gc(len(jobs)):
        return _add(conn, jobs, now)


def _add(conn: sqlite3.Connection, jobs: Sequence[NewJob], now: float) -> list[Added]:
    out: list[Added] = []
    created_at = _fromtimestamp(now, UTC)
    run: list[NewJob] = []
    for new in jobs:
        if new.unique_key is None:
            run.append(new)
            continue
        if run:
            out += insert_many(conn, run, now, created_at)
            run = []
        row = conn.execute(Q["find_unique"], (new.unique_key,)).fetchone()
        if row is None:
            out += insert_many(conn, [new], now, created_at)
            continue
        if new.debounce and row[STATUS] == JobStatus.PENDING and new.run_at > row[RUN_AT]:
            conn.execute(Q["debounce"], (new.run_at, row[ID], new.run_at))
            row = (*row[:RUN_AT], new.run_at, *row[RUN_AT + 1 :])
        out.append(Added(row_to_job(row), created=False))
    if run:
        out += insert_many(conn, run, now, created_at)
    return out


def insert_one(conn: sqlite3.Connection, new: NewJob, now: float) -> list[Added]:
    """Insert one job without a unique key (a producer's usual add): one statement."""
    job_id = _insert_one(conn, new, now)
    return [Added.new(new.stored(job_id, now, _fromtimestamp(now, UTC)))]


def _insert_one(conn: sqlite3.Connection, new: NewJob, now: float) -> int:
    """Insert one job that cannot collide under the next free id; that id."""
    job_id = conn.execute(
        Q["insert_one_job"],
        (
            new.type,
            new.payload_json,
            new.priority,
            new.max_attempts,
            new.run_at,
            now,
            new.unique_key,
            new.parent_id,
        ),
    ).lastrowid
    assert job_id is not None
    return job_id


def insert_many(
    conn: sqlite3.Connection, jobs: list[NewJob], now: float, created_at: datetime
) -> list[Added]:
    """Insert jobs known not to collide, under consecutive fresh ids (we hold the write lock)."""
    if len(jobs) == 1:
        first = _insert_one(conn, jobs[0], now)
    elif len(jobs) >= BULK_INSERT:
        return _insert_bulk(conn, jobs, now, created_at)
    else:
        first = conn.execute(Q["next_id"]).fetchone()[0]
        conn.executemany(Q["insert_job"], insert_params(jobs, first, now))
    return new_added(jobs, first, now, created_at)


def _insert_bulk(
    conn: sqlite3.Connection, jobs: list[NewJob], now: float, created_at: datetime
) -> list[Added]:
    """Many jobs in one INSERT over a JSON array, the returned jobs built meanwhile.

    SQLite releases the GIL for the whole of one statement (an executemany takes it back
    for every row), so the jobs this returns are built on a helper thread while SQLite
    inserts: two cores at work where an executemany keeps one. The ids are known before
    the insert: we hold the write lock.
    """
    first = conn.execute(Q["next_id"]).fetchone()[0]
    rows = orjson.dumps(
        [
            (
                new.type,
                new.payload_json,
                new.priority,
                new.max_attempts,
                None if new.run_at == now else new.run_at,
                new.unique_key,
                new.parent_id,
            )
            for new in jobs
        ]
    )
    building = _builder.submit(_built, jobs, first, now, created_at)
    try:
        conn.execute(Q["insert_jobs_json"], {"first": first, "now": now, "rows": rows})
    finally:
        added = building.result()
    return added


def _built(jobs: list[NewJob], first: int, now: float, created_at: datetime) -> list[Added]:
    with paused_gc(len(jobs)):
        return new_added(jobs, first, now, created_at)


BULK_INSERT = 2000  # from this many jobs on, one statement with the building alongside
_builder = ThreadPoolExecutor(1, thread_name_prefix="relayarr-sqlite-build")


def insert_params(jobs: Sequence[NewJob], first: int, now: float) -> list[tuple[Any, ...]]:
    """insert_job's parameters for jobs taking the ids ``first``, ``first + 1``..."""
    return [
        (
            first + index,
            new.type,
            new.payload_json,
            new.priority,
            new.max_attempts,
            new.run_at,
            now,
            new.unique_key,
            new.parent_id,
        )
        for index, new in enumerate(jobs)
    ]


def new_added(
    jobs: Sequence[NewJob], first: int, now: float, created_at: datetime | None = None
) -> list[Added]:
    """The Added results of jobs just inserted under the ids ``first``, ``first + 1``..."""
    if created_at is None:
        created_at = _fromtimestamp(now, UTC)
    return [Added.new(new.stored(first + index, now, created_at)) for index, new in enumerate(jobs)]


def archive(
    conn: sqlite3.Connection,
    row: tuple[Any, ...],
    status: JobStatus,
    now: float,
    error: str | None,
    result: str | None,
) -> Job:
    """Write a row just taken from job_queue into history; the caller already deleted it."""
    done = history_row(row, status, now, error, result)
    conn.execute(Q["insert_history"], history_params(done))
    return row_to_job(done)


def list_jobs(conn: sqlite3.Connection, query: JobQuery) -> Page:
    statuses = [JobStatus(status) for status in query.statuses]
    params = {
        "before": query.before_id if query.before_id is not None else NO_CURSOR,
        "any_status": not statuses,
        "statuses": json.dumps([status.value for status in statuses]),
        "any_type": not query.types,
        "types": json.dumps(list(query.types)),
        "parent": query.parent_id,
        "unique_key": query.unique_key,
        "limit": query.limit + 1,
    }
    want_active = not statuses or any(status.is_active for status in statuses)
    want_history = not statuses or any(status.is_terminal for status in statuses)
    rows: list[tuple[Any, ...]] = []
    if want_active:
        rows += conn.execute(Q["list_active"], params).fetchall()
    if want_history:
        rows += conn.execute(Q["list_history"], params).fetchall()
    rows.sort(key=lambda row: row[ID], reverse=True)
    return page_of([row_to_job(row) for row in rows[: query.limit + 1]], query.limit)


def stats(conn: sqlite3.Connection, now: float) -> QueueStats:
    # One read transaction, so one snapshot: a job that finishes between the two counts
    # would otherwise be counted in both tables.
    conn.execute("BEGIN")
    try:
        counts = [
            *conn.execute(Q["count_active"]).fetchall(),
            *conn.execute(Q["count_history"]).fetchall(),
        ]
        oldest = conn.execute(Q["oldest_due"], (now,)).fetchone()[0]
        finished = conn.execute(Q["finished_since"], (now - FINISHED_WINDOW,)).fetchone()[0]
    finally:
        conn.execute("COMMIT")
    return queue_stats(counts, oldest_due=oldest, finished=finished, now=now)
