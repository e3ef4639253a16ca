"""The queue page, its live state for the page's script, the charts, the placeholders."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from relayarr.jobqueue import JobQuery, JobQueue, JobStatus, QueueStats
from relayarr.web.context import WebContext, context
from relayarr.web.dashboard import charts, views
from relayarr.web.dashboard.guard import RequireSession
from relayarr.web.dashboard.render import NAV, render, state_of
from relayarr.web.dashboard.timeline import Timeline
from relayarr.web.schemas import BreakerOut, StatsOut

ACTIVE_SHOWN = 100  # per list; the counts say how many there are in all
BACKFILL_BUDGET = 50_000
DAY = 86400.0

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(context)]


def depth(stats: QueueStats) -> int:
    return stats.count(JobStatus.PENDING) + stats.count(JobStatus.PROCESSING)


@router.get("/")
async def queue_page(request: Request, ctx: Ctx, session: RequireSession) -> Response:
    # The feed position first: events after it are replayed to the page's script, so
    # nothing that happens while the lists are read is lost (replays are idempotent).
    feed = ctx.events
    after, stream = feed.last_id, feed.stream
    queue = ctx.queue
    running = await queue.list_jobs(JobQuery(statuses=(JobStatus.PROCESSING,), limit=ACTIVE_SHOWN))
    pending = await queue.list_jobs(JobQuery(statuses=(JobStatus.PENDING,), limit=ACTIVE_SHOWN))
    stats = await queue.stats()
    breakers = await queue.breakers()
    return render(
        request,
        "queue.html",
        session=session,
        active="queue",
        running=running.jobs,
        pending=pending.jobs,
        stats=StatsOut.of(stats),
        breakers=[BreakerOut.of(state) for state in breakers],
        after=after,
        stream=stream,
        shown=ACTIVE_SHOWN,
        now=datetime.now(UTC),
    )


@router.get("/ui/state")
async def live_state(ctx: Ctx, _: RequireSession) -> Response:
    """Counts and breakers for the queue page's script, which asks after events arrive
    (at most once a second), never on a timer."""
    stats = StatsOut.of(await ctx.queue.stats())
    breakers = [BreakerOut.of(state) for state in await ctx.queue.breakers()]
    return JSONResponse(
        {
            "stats": stats.model_dump(mode="json"),
            "breakers": [item.model_dump(mode="json") for item in breakers],
        }
    )


@router.get("/ui/active")
async def active_jobs(ctx: Ctx, _: RequireSession) -> Response:
    """The queue page's lists again, for its script after it missed events."""
    queue = ctx.queue
    lists = {}
    for name, status in (("running", JobStatus.PROCESSING), ("pending", JobStatus.PENDING)):
        page = await queue.list_jobs(JobQuery(statuses=(status,), limit=ACTIVE_SHOWN))
        lists[name] = [
            {
                "id": job.id,
                "type": job.type,
                "attempts": job.attempts,
                "priority": job.priority,
                "run_at": job.run_at.isoformat(),
                "started_at": job.started_at.isoformat() if job.started_at else None,
                "summary": views.summary(job),
            }
            for job in page.jobs
        ]
    return JSONResponse(lists)


async def _backfill(queue: JobQueue, timeline: Timeline, now: float) -> None:
    """Fill the last day before the timeline began from the stored jobs, newest first,
    looking at :data:`BACKFILL_BUDGET` jobs at most."""
    window_start = now - DAY
    jobs = []
    covered = window_start
    cursor = None
    while True:
        page = await queue.list_jobs(JobQuery(before_id=cursor, limit=500))
        stop = False
        for job in page.jobs:
            if job.created_at.timestamp() < window_start:
                stop = True
                break
            jobs.append(job)
        cursor = page.next_cursor
        if stop or cursor is None:
            break
        if len(jobs) >= BACKFILL_BUDGET:
            covered = jobs[-1].created_at.timestamp()
            break
    timeline.backfill(jobs, covered)


@router.get("/charts")
async def charts_page(request: Request, ctx: Ctx, session: RequireSession) -> Response:
    state = state_of(request)
    timeline = state.timeline
    async with state.backfill_lock:
        if not timeline.backfilled:
            await _backfill(ctx.queue, timeline, time.time())
    stats = await ctx.queue.stats()
    now = time.time()
    current = depth(stats)
    hour_done, hour_failed = timeline.throughput(now, 60, 1)
    day_done, day_failed = timeline.throughput(now, 24 * 60, 60)
    history_failed = {
        name: counts.failed for name, counts in stats.by_type.items() if counts.failed
    }
    return render(
        request,
        "charts.html",
        session=session,
        active="charts",
        throughput_hour=charts.line_chart(
            "Jobs finished per minute, last hour",
            [("done", "completed", hour_done), ("failed", "failed", hour_failed)],
        ),
        throughput_day=charts.line_chart(
            "Jobs finished per hour, last day",
            [("done", "completed", day_done), ("failed", "failed", day_failed)],
            with_day=True,
        ),
        depth_hour=charts.line_chart(
            "Queue depth (pending + running), last hour",
            [("depth", "active jobs", timeline.depth(now, current, 60, 1))],
        ),
        depth_day=charts.line_chart(
            "Queue depth, last day (at the end of each hour)",
            [("depth", "active jobs", timeline.depth(now, current, 24 * 60, 60))],
            with_day=True,
        ),
        failures_day=charts.bar_chart(
            "Failures per type, last day", timeline.failures_by_type(now, 24 * 60)
        ),
        failures_history=charts.bar_chart("Failed jobs in history, per type", history_failed),
        known_since=datetime.fromtimestamp(timeline.known_since * 60, UTC),
    )


def _placeholder(key: str) -> None:
    item = next(entry for entry in NAV if entry.key == key)

    @router.get(item.path)
    async def placeholder(request: Request, session: RequireSession) -> Response:
        return render(request, "placeholder.html", session=session, active=key, item=item)

    placeholder.__name__ = f"{key}_page"


for _entry in NAV:
    if not _entry.ready:
        _placeholder(_entry.key)

__all__ = ["router"]
