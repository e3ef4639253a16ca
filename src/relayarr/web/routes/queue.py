"""Queue-wide views: ``GET /api/v1/stats`` and ``GET /api/v1/breakers``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from relayarr.web.auth import RequireKey
from relayarr.web.context import WebContext, context
from relayarr.web.schemas import BreakerOut, ErrorOut, StatsOut

router = APIRouter(
    prefix="/api/v1",
    tags=["queue"],
    dependencies=[RequireKey],
    responses={401: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
Ctx = Annotated[WebContext, Depends(context)]


@router.get("/stats", response_model=StatsOut, summary="Job counts and throughput")
async def stats(ctx: Ctx) -> StatsOut:
    """Counts by type and status, the oldest due job's wait, jobs finished last minute."""
    return StatsOut.of(await ctx.queue.stats())


@router.get("/breakers", response_model=list[BreakerOut], summary="Circuit breaker states")
async def breakers(ctx: Ctx) -> list[BreakerOut]:
    """Every circuit breaker as all workers of the deployment share it (a type or target
    never tripped has none)."""
    return [BreakerOut.of(state) for state in await ctx.queue.breakers()]


__all__ = ["router"]
