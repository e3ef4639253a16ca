"""One job in detail: payload, result, every attempt's events and errors, its chain of
jobs as a tree; and the retry and cancel buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from starlette.responses import RedirectResponse, Response

from relayarr.jobqueue import EventKind, InvalidTransition
from relayarr.web.context import WebContext, context
from relayarr.web.dashboard.chain import chain_of
from relayarr.web.dashboard.guard import RequireCsrf, RequireSession
from relayarr.web.dashboard.render import render
from relayarr.web.dashboard.trail import job_trail

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(context)]
JobIdParam = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
ERROR_KINDS = frozenset({EventKind.RETRYING, EventKind.FAILED})


@router.get("/jobs/{job_id}")
async def job_page(
    request: Request, ctx: Ctx, session: RequireSession, job_id: JobIdParam
) -> Response:
    job = await ctx.queue.get_job(job_id)
    trail = await job_trail(ctx.events, job)
    chain = await chain_of(ctx.queue, job)
    errors = [event for event in trail.events if event.kind in ERROR_KINDS]
    return render(
        request,
        "job.html",
        session=session,
        active="history",
        job=job,
        trail=trail,
        errors=errors,
        chain=chain,
        now=datetime.now(UTC),
    )


@router.post("/jobs/{job_id}/retry")
async def retry(ctx: Ctx, session: RequireCsrf, job_id: JobIdParam) -> Response:
    try:
        await ctx.queue.retry_job(job_id)
        session.flash = f"Job {job_id} is queued again."
    except InvalidTransition as exc:  # shown on the page rather than as an error page
        session.flash = f"Not retried: {exc}"
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.post("/jobs/{job_id}/cancel")
async def cancel(ctx: Ctx, session: RequireCsrf, job_id: JobIdParam) -> Response:
    try:
        await ctx.queue.cancel_job(job_id)
        session.flash = f"Job {job_id} is cancelled."
    except InvalidTransition as exc:
        session.flash = f"Not cancelled: {exc}"
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


__all__ = ["router"]
