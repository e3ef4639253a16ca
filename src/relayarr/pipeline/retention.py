"""The ``prune-history`` handler: delete finished jobs older than ``[queue] history_days``,
once a day, so the queue's history stays as long as the user wants it and no longer.

One schedule runs per deployment however many processes have workers: the job holds the
unique key ``prune-history`` and schedules its successor atomically with its own
completion, as the periodic reconciliation does. With ``history_days = 0`` (the default)
nothing is scheduled, and a job left from an earlier configuration ends without a
successor.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from relayarr.jobqueue import Complete, Job, JobQueue, JobSpec

log = logging.getLogger(__name__)

PRUNE_HISTORY = "prune-history"
PRUNE_HISTORY_KEY = "prune-history"
"""The unique key of the daily prune: at most one is scheduled per deployment."""
PRUNE_EVERY = 86_400.0
"""Seconds between two prunes."""
FIRST_PRUNE_DELAY = 300.0
"""Seconds after a start before the first prune: start-up work (catching up webhooks,
the reconciliation) goes first."""


async def schedule_retention(
    queue: JobQueue, history_days: float, *, delay: float = FIRST_PRUNE_DELAY
) -> Job | None:
    """Make sure the daily prune is scheduled when ``history_days`` is set; the unique key
    returns the one already waiting, so every start of every process may call this."""
    if history_days <= 0:
        return None
    return await queue.add_job(PRUNE_HISTORY, {}, unique_key=PRUNE_HISTORY_KEY, delay=delay)


async def handle_prune_history(queue: JobQueue, history_days: float, job: Job) -> Complete:
    """Delete what finished more than ``history_days`` ago; schedule the next run."""
    if history_days <= 0:
        return Complete(result={"deleted": 0, "skipped": "history_days is 0: history is kept"})
    deleted = await queue.prune(older_than=timedelta(days=history_days))
    log.info("history pruned", extra={"deleted": deleted, "history_days": history_days})
    successor = JobSpec(PRUNE_HISTORY, {}, unique_key=PRUNE_HISTORY_KEY, delay=PRUNE_EVERY)
    return Complete(
        result={"deleted": deleted, "history_days": history_days}, follow_ups=[successor]
    )


__all__ = [
    "FIRST_PRUNE_DELAY",
    "PRUNE_EVERY",
    "PRUNE_HISTORY",
    "PRUNE_HISTORY_KEY",
    "handle_prune_history",
    "schedule_retention",
]
