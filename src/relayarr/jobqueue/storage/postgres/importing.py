"""Receiving jobs moved from another engine, under their own ids (see JobImport).

One transaction per call: the jobs whose ids are free are inserted as they are, and the
``job_ids`` sequence is moved past the largest imported id so it never hands one out again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relayarr.jobqueue.errors import InvalidTransition
from relayarr.jobqueue.models import TERMINAL_STATUSES, Job
from relayarr.jobqueue.storage.sql import (
    finished_import_params,
    load_queries,
    pending_import_params,
)

Q = load_queries(__package__ or __name__, "importing.sql")


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
        if job.status in TERMINAL_STATUSES:
            finished.append(finished_import_params(job))
            continue
        if job.unique_key is not None:
            holder = await conn.fetchval(Q["unique_holder"], job.unique_key)
            if holder is not None:
                raise InvalidTransition(
                    f"job {job.id}: unique key {job.unique_key!r} is held by job {holder} "
                    "on the target"
                )
        pending.append(pending_import_params(job))
    if pending:
        await conn.executemany(Q["import_pending"], pending)
    if finished:
        await conn.executemany(Q["import_finished"], finished)
    if seen:
        await conn.fetchval(Q["raise_job_ids"], max(seen))
    return len(seen)
