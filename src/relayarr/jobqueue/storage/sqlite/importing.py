"""Receiving jobs moved from another engine, under their own ids (see JobImport).

No id bookkeeping is needed: new ids come from the largest id of either table (and the
floor kept across prunes), so an imported id is never handed out again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from relayarr.jobqueue.errors import InvalidTransition
from relayarr.jobqueue.models import TERMINAL_STATUSES, Job, JobStatus, dump_json
from relayarr.jobqueue.storage.sql import load_queries

Q = load_queries(__package__ or __name__, "importing.sql")


def _at(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _result(job: Job) -> str | None:
    return None if job.result is None else dump_json(job.result, "result")


def check_importable(jobs: Sequence[Job]) -> None:
    """Processing jobs belong to a running worker: they are never moved."""
    for job in jobs:
        if job.status is JobStatus.PROCESSING:
            raise ValueError(f"job {job.id} is processing: only pending and finished jobs move")


def import_jobs(conn: sqlite3.Connection, jobs: Sequence[Job]) -> int:
    """Insert the jobs whose ids are free; returns how many (inside the writer's savepoint)."""
    check_importable(jobs)
    stored = 0
    for job in jobs:
        if conn.execute(Q["job_present"], (job.id, job.id)).fetchone() is not None:
            continue
        payload = dump_json(job.payload, "payload")
        if job.status in TERMINAL_STATUSES:
            conn.execute(
                Q["import_finished"],
                (
                    job.id,
                    job.type,
                    payload,
                    job.priority,
                    job.status.value,
                    job.attempts,
                    job.max_attempts,
                    job.run_at.timestamp(),
                    job.created_at.timestamp(),
                    _at(job.started_at),
                    _at(job.finished_at) or job.created_at.timestamp(),
                    job.last_error,
                    job.unique_key,
                    job.parent_id,
                    job.lease_owner,
                    job.rescues,
                    _result(job),
                ),
            )
        else:
            if job.unique_key is not None:
                holder = conn.execute(Q["unique_holder"], (job.unique_key,)).fetchone()
                if holder is not None:
                    raise InvalidTransition(
                        f"job {job.id}: unique key {job.unique_key!r} is held by job "
                        f"{holder[0]} on the target"
                    )
            conn.execute(
                Q["import_pending"],
                (
                    job.id,
                    job.type,
                    payload,
                    job.priority,
                    job.attempts,
                    job.max_attempts,
                    job.run_at.timestamp(),
                    job.created_at.timestamp(),
                    _at(job.started_at),
                    job.last_error,
                    job.unique_key,
                    job.parent_id,
                    job.rescues,
                ),
            )
        stored += 1
    return stored
