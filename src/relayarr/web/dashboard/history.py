"""The history page: every job, filtered (status, type, text, time range), paged by a
keyset cursor; and the bulk retry of the failed and cancelled jobs ticked on it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from relayarr.jobqueue import InvalidTransition, JobId, JobNotFound, JobQuery, JobStatus
from relayarr.web.context import WebContext, context
from relayarr.web.dashboard.guard import RequireCsrf, RequireSession
from relayarr.web.dashboard.login import safe_next
from relayarr.web.dashboard.render import render
from relayarr.web.listing import Filters, list_filtered
from relayarr.web.schemas import MAX_BULK

PAGE_SIZES = (25, 50, 100, 200)
RANGES = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7),
          "30d": timedelta(days=30)}  # fmt: skip

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(context)]


def parse_moment(text: str | None) -> datetime | None:
    """A time from the form (``2025-03-08T21:14``, read as UTC unless it has an offset);
    ValueError when it is not one."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class HistoryForm:
    """The filters as the page shows them again, and what the listing is asked."""

    statuses: tuple[JobStatus, ...]
    types: tuple[str, ...]
    text: str
    range: str
    since: str
    until: str
    limit: int
    problems: tuple[str, ...]

    def filters(self, now: datetime) -> Filters:
        since = until = None
        with contextlib.suppress(ValueError):  # read_form reported it already
            since = parse_moment(self.since)
        with contextlib.suppress(ValueError):
            until = parse_moment(self.until)
        if since is None and self.range in RANGES:
            since = now - RANGES[self.range]
        return Filters(self.text or None, since, until)

    def query_string(self, **override: object) -> str:
        pairs: list[tuple[str, object]] = [("status", s.value) for s in self.statuses]
        pairs += [("type", t) for t in self.types]
        for name in ("text", "range", "since", "until"):
            if getattr(self, name):
                pairs.append((name, getattr(self, name)))
        pairs.append(("limit", self.limit))
        pairs += list(override.items())
        return urlencode(pairs)


def read_form(
    status: list[str], job_type: list[str], text: str, range_: str, since: str, until: str,
    limit: int,
) -> HistoryForm:  # fmt: skip
    problems: list[str] = []
    statuses: list[JobStatus] = []
    for value in status:
        try:
            statuses.append(JobStatus(value))
        except ValueError:
            problems.append(f"unknown status {value[:40]!r} ignored")
    for name, value in (("from", since), ("until", until)):
        try:
            parse_moment(value)
        except ValueError:
            problems.append(f"the {name} time is not a date and time; ignored")
    return HistoryForm(
        statuses=tuple(dict.fromkeys(statuses)),
        types=tuple(dict.fromkeys(t[:100] for t in job_type if t)),
        text=text[:200].strip(),
        range=range_ if range_ in RANGES else "",
        since=since[:40],
        until=until[:40],
        limit=limit if limit in PAGE_SIZES else PAGE_SIZES[1],
        problems=tuple(problems),
    )


@router.get("/history")
async def history_page(
    request: Request,
    ctx: Ctx,
    session: RequireSession,
    status: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    job_type: Annotated[list[str], Query(alias="type")] = [],  # noqa: B006
    text: str = "",
    range_: Annotated[str, Query(alias="range")] = "",
    since: str = "",
    until: str = "",
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: int = PAGE_SIZES[1],
) -> Response:
    form = read_form(status, job_type, text, range_, since, until, limit)
    query = JobQuery(
        statuses=form.statuses,
        types=form.types,
        before_id=JobId(cursor) if cursor is not None else None,
        limit=form.limit,
    )
    now = datetime.now(UTC)
    page = await list_filtered(ctx.queue, query, form.filters(now))
    stats = await ctx.queue.stats()
    return render(
        request,
        "history.html",
        session=session,
        active="history",
        form=form,
        jobs=page.jobs,
        next_cursor=page.next_cursor,
        first_page=cursor is None,
        known_types=sorted(set(stats.by_type) | set(form.types)),
        statuses=list(JobStatus),
        ranges=list(RANGES),
        page_sizes=PAGE_SIZES,
        here=request.url.path + ("?" + request.url.query if request.url.query else ""),
        now=now,
    )


@router.post("/history/retry")
async def retry_selected(
    ctx: Ctx,
    session: RequireCsrf,
    ids: Annotated[list[int], Form(max_length=MAX_BULK)] = [],  # noqa: B006
    back: Annotated[str, Form(max_length=2000)] = "/history",
) -> Response:
    """Queue each ticked job again; the ones that cannot be are named in the message."""
    retried = 0
    refused: list[str] = []
    for job_id in dict.fromkeys(ids):
        try:
            await ctx.queue.retry_job(job_id)
            retried += 1
        except (JobNotFound, InvalidTransition) as exc:
            refused.append(str(exc))
    if not ids:
        session.flash = "Tick the jobs to retry first."
    else:
        session.flash = f"Queued {retried} job{'s' * (retried != 1)} again."
        if refused:
            session.flash += f" {len(refused)} could not be: {refused[0]}"
    return RedirectResponse(safe_next(back), status_code=303)


__all__ = ["router"]
