"""Receiving jobs moved from another engine, under their own ids (see JobImport).

No id bookkeeping is needed: new ids come from the largest id of either table (and the
floor kept across prunes), so an imported id is never handed out again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from relayarr.jobqueue.errors import InvalidTransition
from relayarr.jobqueue.models import TERMINAL_STATUSES, Job
from relayarr.jobqueue.storage.sql import (
    finished_import_params,
    load_queries,
    pending_import_params,
)
from relayarr.jobqueue.storage.sqlite.ops import Q as QUERIES

Q = load_queries(__package__ or __name__, "importing.sql")
COUNT_REQUEUE = QUERIES["count_requeue"]


def import_jobs(conn: sqlite3.Connection, jobs: Sequence[Job]) -> int:
    """Insert the jobs whose ids are free; returns how many. Runs in one writer transaction:
    a refusal part-way (a held unique key) undoes the jobs stored before it."""
    stored = 0
    for job in jobs:
        if conn.execute(Q["job_present"], (job.id, job.id)).fetchone() is not None:
            continue
        if job.status in TERMINAL_STATUSES:
            conn.execute(Q["import_finished"], finished_import_params(job))
        else:
            if job.unique_key is not None:
                holder = conn.execute(Q["unique_holder"], (job.unique_key,)).fetchone()
                if holder is not None:
                    raise InvalidTransition(
                        f"job {job.id}: unique key {job.unique_key!r} is held by job "
                        f"{holder[0]} on the target"
                    )
            conn.execute(Q["import_pending"], pending_import_params(job))
            conn.execute(COUNT_REQUEUE)  # an old id: the largest id may not move
        stored += 1
    return stored
