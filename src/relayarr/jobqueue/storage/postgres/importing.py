"""Receiving jobs moved from another engine, under their own ids (see JobImport).

One transaction per call: the jobs whose ids are free are inserted as they are, and the
``job_ids`` sequence is moved past the largest imported id so it never hands one out again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from relayarr.jobqueue.errors import InvalidTransition
from relayarr.jobqueue.models import TERMINAL_STATUSES, Job, JobStatus, dump_json
from relayarr.jobqueue.storage.sql import load_queries

Q = load_queries(__package__ or __name__, "importing.sql")


def _at(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def check_importable(jobs: Sequence[Job]) -> None:
    """Processing jobs belong to a running worker: they are never moved."""
    for job in jobs:
        if job.status is JobStatus.PROCESSING:
            raise ValueError(f"job {job.id} is processing: only pending and finished jobs move")


async def import_in(conn: Any, jobs: Sequence[Job]) -> int:
    """Insert the jobs whose ids are free, inside the caller's transaction; returns how many."""
    present = {row[0] for row in await conn.fetch(Q["present_ids"], [int(j.id) for j in jobs])}
    pending: list[tuple[Any, ...]] = []
    finished: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    for job in jobs:
        if job.id in present or job.id in seen:
            continue
        seen.add(job.id)
        payload = dump_json(job.payload, "payload")
        if job.status in TERMINAL_STATUSES:
            result = None if job.result is None else dump_json(job.result, "result")
            finished_at = job.finished_at or job.created_at
            finished.append(
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
                    finished_at.timestamp(),
                    job.last_error,
                    job.unique_key,
                    job.parent_id,
                    job.lease_owner,
                    job.rescues,
                    result,
                )
            )
            continue
        if job.unique_key is not None:
            holder = await conn.fetchval(Q["unique_holder"], job.unique_key)
            if holder is not None:
                raise InvalidTransition(
                    f"job {job.id}: unique key {job.unique_key!r} is held by job {holder} "
                    "on the target"
                )
        pending.append(
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
            )
        )
    if pending:
        await conn.executemany(Q["import_pending"], pending)
    if finished:
        await conn.executemany(Q["import_finished"], finished)
    if seen:
        await conn.fetchval(Q["raise_job_ids"], max(seen))
    return len(seen)
