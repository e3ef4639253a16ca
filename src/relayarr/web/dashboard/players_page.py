"""The players page: every group and its players with their health (circuit breaker,
failures, when it may be asked again), and a "test" button per player that runs the same
check as ``relayarr players test`` for that one player.

Showing the page asks no player anything: health is what this process learnt while
notifying. A test is a form POST (CSRF-checked) whose result is kept for the page (see
:mod:`.checks`). No credential is shown: the players' settings hold them as secrets, the
reports never carry them, and any text from a player's answer is scrubbed of them too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from relayarr.jobqueue import BreakerPhase
from relayarr.players.report import Health, PlayerReport, check_player, player_health
from relayarr.players.roster import Roster
from relayarr.players.settings import PlayerSettings
from relayarr.web.context import WebContext, context
from relayarr.web.dashboard.checks import Checked
from relayarr.web.dashboard.guard import RequireCsrf, RequireSession
from relayarr.web.dashboard.render import render, state_of

HIDDEN = "•••"

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(context)]


@dataclass(frozen=True, slots=True)
class PlayerRow:
    """One player as the page shows it; ``anchor`` is its element id."""

    anchor: str
    name: str
    type: str
    url: str
    health: Health
    checked: Checked | None
    mappings: tuple[tuple[str, str], ...]

    @property
    def healthy(self) -> bool:
        return self.health.breaker is not BreakerPhase.OPEN


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One group: its settings and its members in the order they are tried."""

    name: str
    mode: str
    during_playback: str
    members: tuple[PlayerRow, ...]

    @property
    def healthy(self) -> int:
        return sum(member.healthy for member in self.members)

    @property
    def verdict(self) -> str:
        count, total = self.healthy, len(self.members)
        if count == total:
            return "every member can be told" if total > 1 else "can be told"
        if count == 0:
            return "no member can be told now: notifications wait for a breaker to reopen"
        if self.mode == "one":
            return f"{count} of {total} members can be told; the first healthy one is"
        return f"{count} of {total} members can be told; the others are retried later"


def anchor_of(index: int) -> str:
    return f"player-{index + 1}"


def unconfigured(roster: Roster | None) -> str | None:
    if roster is None or not roster.players:
        return "No players are configured: add [[players]] to the configuration."
    return None


def groups_of(roster: Roster, checks: dict[str, Checked]) -> list[GroupRow]:
    """The groups in the order their first member is configured."""
    members: dict[str, list[PlayerRow]] = {}
    for index, player in enumerate(roster.players.values()):
        row = PlayerRow(
            anchor=anchor_of(index),
            name=player.name,
            type=player.type.value,
            url=player.url,
            health=player_health(roster, player.name),
            checked=checks.get(player.name),
            mappings=tuple((m.local, m.player) for m in player.mappings),
        )
        members.setdefault(player.group_name, []).append(row)
    rows = []
    for name, players in members.items():
        settings = roster.section.group(name)
        rows.append(
            GroupRow(
                name=name,
                mode=settings.mode.value,
                during_playback=settings.during_playback.value,
                members=tuple(players),
            )
        )
    return rows


def secrets_of(player: PlayerSettings) -> list[str]:
    return [
        secret.get_secret_value()
        for secret in (player.password, player.token)
        if secret is not None and secret.get_secret_value()
    ]


def scrub(report: PlayerReport, secrets: list[str]) -> PlayerReport:
    """The report with every secret replaced in the texts that came from the player."""

    def clean(text: str | None) -> str | None:
        if text is None:
            return None
        for secret in secrets:
            text = text.replace(secret, HIDDEN)
        return text

    roots = None
    if report.roots is not None:
        roots = tuple(dataclasses.replace(r, message=clean(r.message) or "") for r in report.roots)
    return dataclasses.replace(
        report, error=clean(report.error), version=clean(report.version), roots=roots
    )


@router.get("/players")
async def players_page(request: Request, ctx: Ctx, session: RequireSession) -> Response:
    roster = ctx.services.players
    missing = unconfigured(roster)
    if missing is not None or roster is None:
        return render(request, "players.html", session=session, active="players", missing=missing)
    checks = state_of(request).player_checks.latest
    return render(
        request,
        "players.html",
        session=session,
        active="players",
        missing=None,
        groups=groups_of(roster, checks),
    )


@router.post("/players/test")
async def run_player_check(
    request: Request,
    ctx: Ctx,
    session: RequireCsrf,
    player: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check one player now (reachable, logged in, version, libraries, library roots)."""
    roster = ctx.services.players
    if roster is None or player not in roster.players:
        session.flash = f"No player is named {player!r}."
        return RedirectResponse("/players", status_code=303)
    report = await check_player(roster, player, ctx.services.root_paths())
    report = scrub(report, secrets_of(roster.players[player]))
    state_of(request).player_checks.record(report, datetime.now(UTC))
    outcome = "all checks passed" if report.ok else (report.error or "a library root is not seen")
    session.flash = f"Tested {player}: {outcome}."
    anchor = anchor_of(list(roster.players).index(player))
    return RedirectResponse(f"/players#{anchor}", status_code=303)


__all__ = ["GroupRow", "PlayerRow", "groups_of", "router", "scrub"]
