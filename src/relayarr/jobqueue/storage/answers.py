"""How every engine shapes two of its answers, written once: a page of a listing, and the
queue's stats from what the engine counted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from relayarr.jobqueue.models import Job, Page, QueueStats, TypeStats

FINISHED_WINDOW = 60.0
"""Seconds back that :attr:`QueueStats.finished_last_minute` counts."""


def page_of(jobs: Sequence[Job], limit: int) -> Page:
    """A page of the first ``limit`` of ``jobs`` (newest first, at most ``limit + 1``
    fetched: the one beyond only says that more match, so the page gets a cursor)."""
    shown = jobs[:limit]
    return Page(jobs=shown, next_cursor=shown[-1].id if len(jobs) > limit and shown else None)


def queue_stats(
    counts: Iterable[tuple[str, str, int]],
    *,
    oldest_due: float | None,
    finished: int,
    now: float,
) -> QueueStats:
    """Stats from ``(type, status, count)`` rows, the run_at of the pending job due the
    longest (None when none is due), and how many jobs finished in the last
    :data:`FINISHED_WINDOW` seconds."""
    by_type: dict[str, dict[str, int]] = {}
    for job_type, status, count in counts:
        by_type.setdefault(job_type, {})[status] = count
    return QueueStats(
        by_type={job_type: TypeStats(**by_status) for job_type, by_status in by_type.items()},
        oldest_pending_age=None if oldest_due is None else max(0.0, now - oldest_due),
        finished_last_minute=finished,
    )


__all__ = ["FINISHED_WINDOW", "page_of", "queue_stats"]
