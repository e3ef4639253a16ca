"""Listing jobs with filters storage does not index: text and a time range on creation.

Status, type and parent are filtered in storage (:class:`~relayarr.jobqueue.JobQuery`).
``text`` and the time range are applied here, over at most :data:`SCAN_BUDGET` stored jobs
per call: a page may then hold fewer than ``limit`` jobs while ``next_cursor`` says there
is more to look at. The JSON API and the dashboard's history page both list this way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from relayarr.jobqueue import Job, JobId, JobQuery, JobQueue, Page

SCAN_BUDGET = 5000  # stored jobs one filtered listing may look at
SCAN_PAGE = 500


@dataclass(frozen=True, slots=True)
class Filters:
    """The in-memory part of a listing's filter: ``text`` (case-insensitive, in the type,
    payload or last error) and ``since <= created_at < until`` (aware datetimes)."""

    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.text is None and self.since is None and self.until is None

    def matcher(self) -> Callable[[Job], bool]:
        needle = self.text.casefold() if self.text else None
        since, until = self.since, self.until

        def matches(job: Job) -> bool:
            if since is not None and job.created_at < since:
                return False
            if until is not None and job.created_at >= until:
                return False
            if needle is None:
                return True
            haystack = " ".join(
                (job.type, job.last_error or "", json.dumps(job.payload, ensure_ascii=False))
            )
            return needle in haystack.casefold()

        return matches


async def list_filtered(
    queue: JobQueue, query: JobQuery, filters: Filters, *, budget: int = SCAN_BUDGET
) -> Page:
    """Up to ``query.limit`` jobs matching ``query`` and ``filters``, newest first; see the
    module doc for why a page can be short and still have a ``next_cursor``."""
    if filters.empty:
        return await queue.list_jobs(query)
    limit = query.limit
    matches = filters.matcher()
    scan = replace(query, limit=SCAN_PAGE)
    found: list[Job] = []
    scanned = 0
    next_cursor: JobId | None = query.before_id
    while True:
        page = await queue.list_jobs(scan)
        for job in page.jobs:
            scanned += 1
            next_cursor = job.id
            if filters.since is not None and job.created_at < filters.since:
                # Ids follow creation order: everything further down is older still.
                return Page(found, None)
            if matches(job):
                found.append(job)
                if len(found) == limit:
                    more = job is not page.jobs[-1] or page.next_cursor is not None
                    return Page(found, job.id if more else None)
        if page.next_cursor is None:
            return Page(found, None)
        if scanned >= budget:
            return Page(found, next_cursor)
        scan = replace(scan, before_id=page.next_cursor)


__all__ = ["SCAN_BUDGET", "Filters", "list_filtered"]
