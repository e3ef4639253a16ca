"""``GET /api/v1/players``: every configured player, checked live, with its health.

The same checks as ``relayarr players test`` (reachable, logged in, version, libraries
and their paths, library roots), plus each player's circuit breaker as this process sees
it. No credential is ever part of the answer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from relayarr.players.report import check_players
from relayarr.web.auth import RequireKey
from relayarr.web.context import WebContext, context
from relayarr.web.schemas import ErrorOut

router = APIRouter(
    prefix="/api/v1/players",
    tags=["players"],
    dependencies=[RequireKey],
    responses={401: {"model": ErrorOut}},
)
Ctx = Annotated[WebContext, Depends(context)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LibraryOut(_Out):
    name: str
    kind: str | None
    paths: list[str]


class RootOut(_Out):
    root: str
    player_path: str | None
    library: str | None
    ok: bool
    message: str


class HealthOut(_Out):
    breaker: Literal["closed", "open", "half_open"]
    failures: int
    reopen_in: float | None


class PlayerOut(_Out):
    name: str
    type: Literal["kodi", "jellyfin", "emby", "plex"]
    group: str
    url: str
    ok: bool
    reachable: bool
    authenticated: bool | None
    version: str | None
    libraries: list[LibraryOut]
    roots: list[RootOut] | None
    error: str | None
    health: HealthOut


class PlayersOut(_Out):
    players: list[PlayerOut]


@router.get("", response_model=PlayersOut, summary="Check every configured player")
async def list_players(ctx: Ctx) -> PlayersOut:
    """Each player: reachable, logged in, version, libraries, library roots, health."""
    services = ctx.services
    if services.players is None:
        return PlayersOut(players=[])
    reports = await check_players(services.players, services.root_paths())
    return PlayersOut.model_validate({"players": [report.to_json() for report in reports]})


__all__ = ["router"]
