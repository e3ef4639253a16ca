"""``GET /api/v1/health`` (no key) and ``GET /metrics`` (Prometheus text format).

Health answers 503 when storage does not answer a cheap read within
:data:`HEALTH_TIMEOUT` seconds; it says nothing about where the database is, since
anyone may ask.

/metrics needs the API key like the rest of the API (Prometheus sends it with
``authorization: {credentials: KEY}``, ``basic_auth: {password: KEY}`` or
``params: {apikey: [KEY]}``), unless ``server.metrics_public`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from relayarr.jobqueue import JobQueueError
from relayarr.web import auth
from relayarr.web.context import WebContext, context
from relayarr.web.metrics import CONTENT_TYPE
from relayarr.web.schemas import ErrorOut, Health, RootHealth

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT = 2.0

router = APIRouter(tags=["service"])
Ctx = Annotated[WebContext, Depends(context)]


async def _storage_answers(ctx: WebContext) -> bool:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await ctx.queue.ping()
    except (JobQueueError, TimeoutError) as exc:
        logger.error(
            "health check: storage does not answer: %s",
            exc or type(exc).__name__,
            extra={"service": "web", "operation": "health"},
        )
        return False
    return True


def _roots(ctx: WebContext) -> list[RootHealth]:
    library = ctx.services.library
    if library is None:
        return []
    return [
        RootHealth(
            path=str(status.root.path),
            kind=status.root.kind.value,
            available=status.available,
            missing=status.missing,
        )
        for status in library.roots.status()
    ]


@router.get(
    "/api/v1/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "storage does not answer"}},
    summary="Liveness and storage health (no API key needed)",
)
async def health(ctx: Ctx) -> Response:
    """200 when storage answers, else 503; never needs the key. ``degraded`` (still 200:
    the service itself is fine) names each library root whose mount is down."""
    healthy = await _storage_answers(ctx)
    roots = await asyncio.to_thread(_roots, ctx)
    status: Literal["ok", "degraded", "unavailable"] = "ok" if healthy else "unavailable"
    if healthy and not all(root.available for root in roots):
        status = "degraded"
    body = Health(
        status=status,
        engine=ctx.queue.storage.capabilities.engine,
        workers=ctx.workers,
        uptime_seconds=round(time.monotonic() - ctx.started_at, 3),
        roots=roots,
    )
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"},
        401: {"model": ErrorOut},
    },
    summary="Prometheus metrics",
)
async def metrics(request: Request, ctx: Ctx) -> Response:
    """Queue depth, job outcomes and durations, webhook requests, breaker states."""
    if not ctx.metrics_public:
        auth.check(request, ctx)
    stats = await ctx.queue.stats()
    breakers = await ctx.queue.breakers()
    return Response(ctx.metrics.render(stats, breakers), media_type=CONTENT_TYPE)


__all__ = ["HEALTH_TIMEOUT", "router"]
