"""The jobs API: list and filter, look at one, enqueue, retry, cancel, bulk retry.

``GET /api/v1/jobs`` filters by status and type in storage; ``text`` and the time range
are applied by :mod:`relayarr.web.listing` over a bounded scan (a page can then be short
and still carry a ``next_cursor``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError

from relayarr.jobqueue import (
    InvalidTransition,
    Job,
    JobId,
    JobNotFound,
    JobQuery,
    JobSpec,
    JobStatus,
)
from relayarr.pipeline.chain import descendants
from relayarr.web.auth import RequireKey
from relayarr.web.context import WebContext, context
from relayarr.web.listing import SCAN_BUDGET, Filters, list_filtered
from relayarr.web.schemas import (
    BulkError,
    BulkRetryRequest,
    BulkRetryResult,
    ChainNodeOut,
    EnqueueRequest,
    EnqueueResult,
    ErrorOut,
    JobDetail,
    JobOut,
    JobPage,
)

MAX_LIMIT = 500
CHILDREN_SHOWN = 100

router = APIRouter(
    prefix="/api/v1/jobs",
    tags=["jobs"],
    dependencies=[RequireKey],
    responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
Ctx = Annotated[WebContext, Depends(context)]
JobIdParam = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="job id")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such job"}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the job's status does not allow it"}
}


@router.get("", response_model=JobPage, summary="List jobs, newest first")
async def list_jobs(
    ctx: Ctx,
    status: Annotated[list[JobStatus] | None, Query(description="repeatable")] = None,
    job_type: Annotated[
        list[str] | None, Query(alias="type", description="job type; repeatable")
    ] = None,
    text: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="in type, payload or last error"),
    ] = None,
    since: Annotated[datetime | None, Query(description="created at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="created before (ISO 8601)")] = None,
    parent_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    cursor: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> JobPage:
    """Jobs matching every filter given; see :class:`JobPage` for paging."""
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise _naive(name)
    query = JobQuery(
        statuses=tuple(status or ()),
        types=tuple(job_type or ()),
        parent_id=JobId(parent_id) if parent_id is not None else None,
        before_id=JobId(cursor) if cursor is not None else None,
        limit=limit,
    )
    page = await list_filtered(ctx.queue, query, Filters(text, since, until))
    return JobPage(jobs=[JobOut.of(job) for job in page.jobs], next_cursor=page.next_cursor)


def _naive(name: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "timezone_aware", "loc": ("query", name), "msg": "must include a UTC offset"}]
    )


@router.get(
    "/{job_id}", response_model=JobDetail, responses=_NOT_FOUND, summary="One job in detail"
)
async def show_job(ctx: Ctx, job_id: JobIdParam) -> JobDetail:
    """The job (attempts, last error, result), its parent, its first children, and the
    chain of every job it set off."""
    job = await ctx.queue.get_job(job_id)
    parent: Job | None = None
    if job.parent_id is not None:
        try:
            parent = await ctx.queue.get_job(job.parent_id)
        except JobNotFound:
            parent = None  # pruned from history
    children = await ctx.queue.list_jobs(JobQuery(parent_id=job.id, limit=CHILDREN_SHOWN))
    chain = await descendants(ctx.queue, job)
    return JobDetail(
        job=JobOut.of(job),
        parent=JobOut.of(parent) if parent is not None else None,
        children=[JobOut.of(child) for child in children.jobs],
        more_children=children.next_cursor is not None,
        chain=ChainNodeOut.of(chain),
        chain_finished=chain.finished,
    )


@router.post("", response_model=EnqueueResult, status_code=201, summary="Add a job")
async def enqueue(ctx: Ctx, request: EnqueueRequest) -> EnqueueResult:
    """Store a job of a type this node knows; with ``unique_key``, an active job holding
    the key is returned instead (``created`` false)."""
    spec = JobSpec(
        request.type,
        request.payload,
        priority=request.priority,
        delay=request.delay,
        unique_key=request.unique_key,
        debounce=request.debounce,
        max_attempts=request.max_attempts,
    )
    added = await ctx.queue.add(spec)
    return EnqueueResult(job=JobOut.of(added.job), created=added.created)


@router.post(
    "/retry", response_model=BulkRetryResult, summary="Retry many failed or cancelled jobs"
)
async def retry_many(ctx: Ctx, request: BulkRetryRequest) -> BulkRetryResult:
    """Queue each job again (attempts reset); jobs that cannot be retried are listed in
    ``errors`` and do not stop the others. Ids are handled once each, in the order given."""
    retried: list[JobOut] = []
    errors: list[BulkError] = []
    for job_id in dict.fromkeys(request.ids):
        try:
            retried.append(JobOut.of(await ctx.queue.retry_job(job_id)))
        except JobNotFound as exc:
            errors.append(BulkError(id=job_id, code="job_not_found", message=str(exc)))
        except InvalidTransition as exc:
            errors.append(BulkError(id=job_id, code="invalid_transition", message=str(exc)))
    return BulkRetryResult(retried=retried, errors=errors)


@router.post(
    "/{job_id}/retry",
    response_model=JobOut,
    responses={**_NOT_FOUND, **_CONFLICT},
    summary="Run a failed or cancelled job again",
)
async def retry_job(ctx: Ctx, job_id: JobIdParam) -> JobOut:
    """Move the job back to pending with its attempts reset."""
    return JobOut.of(await ctx.queue.retry_job(job_id))


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    responses={**_NOT_FOUND, **_CONFLICT},
    summary="Cancel a pending or running job",
)
async def cancel_job(ctx: Ctx, job_id: JobIdParam) -> JobOut:
    """Cancel an active job; a handler running it here stops at once, elsewhere at its
    next heartbeat."""
    return JobOut.of(await ctx.queue.cancel_job(job_id))


__all__ = ["MAX_LIMIT", "SCAN_BUDGET", "router"]
