"""Checking every configured player: reachable, logged in, version, libraries, roots, health.

What ``relayarr players test`` prints and ``GET /api/v1/players`` answers. Each check is
live (a few requests per player, all players at once); a failure is reported on its row,
never raised. Nothing here carries a credential.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from relayarr.errors import PlayerAuthFailed, PlayerError, PlayerUnreachable
from relayarr.jobqueue import BreakerPhase, JSONObject, JSONValue
from relayarr.players.notifier import Library
from relayarr.players.pathforms import contains
from relayarr.players.roster import Roster


@dataclass(frozen=True, slots=True)
class RootCheck:
    """Whether one local library root lands inside one of the player's libraries."""

    root: str
    player_path: str | None
    library: str | None
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class Health:
    """A player's circuit breaker as this process sees it."""

    breaker: BreakerPhase
    failures: int
    reopen_in: float | None


@dataclass(frozen=True, slots=True)
class PlayerReport:
    """Everything checked about one player. ``authenticated`` is None when unknown (the
    player could not be reached); ``roots`` is None when no library roots are configured."""

    name: str
    type: str
    group: str
    url: str
    reachable: bool
    authenticated: bool | None
    version: str | None
    libraries: tuple[Library, ...]
    roots: tuple[RootCheck, ...] | None
    error: str | None
    health: Health

    @property
    def ok(self) -> bool:
        """True when the player answered, logged in, and every root maps into a library."""
        return self.error is None and all(root.ok for root in self.roots or ())

    def to_json(self) -> JSONObject:
        libraries: list[JSONValue] = [
            {"name": lib.name, "kind": lib.kind, "paths": list(lib.paths)} for lib in self.libraries
        ]
        roots: list[JSONValue] | None = (
            None
            if self.roots is None
            else [
                {
                    "root": r.root,
                    "player_path": r.player_path,
                    "library": r.library,
                    "ok": r.ok,
                    "message": r.message,
                }
                for r in self.roots
            ]
        )
        return {
            "name": self.name,
            "type": self.type,
            "group": self.group,
            "url": self.url,
            "ok": self.ok,
            "reachable": self.reachable,
            "authenticated": self.authenticated,
            "version": self.version,
            "libraries": libraries,
            "roots": roots,
            "error": self.error,
            "health": {
                "breaker": self.health.breaker.value,
                "failures": self.health.failures,
                "reopen_in": self.health.reopen_in,
            },
        }


async def check_players(roster: Roster, roots: Sequence[str] | None) -> list[PlayerReport]:
    """Check every player of ``roster`` at once; ``roots`` are local library roots."""
    return list(await asyncio.gather(*(check_player(roster, n, roots) for n in roster.players)))


async def check_player(roster: Roster, name: str, roots: Sequence[str] | None) -> PlayerReport:
    """Check one player: reach it, log in, read its version and libraries, map ``roots``."""
    settings = roster.players[name]
    reachable, authenticated = True, True
    version: str | None = None
    libraries: tuple[Library, ...] = ()
    error: str | None = None
    try:
        info = await roster.notifier(name).check()
        version, libraries = info.version, info.libraries
    except PlayerUnreachable as exc:
        reachable, error = False, str(exc)
    except PlayerAuthFailed as exc:
        authenticated, error = False, str(exc)
    except PlayerError as exc:
        error = str(exc)
    return PlayerReport(
        name=name,
        type=settings.type.value,
        group=settings.group_name,
        url=settings.url,
        reachable=reachable,
        authenticated=authenticated if reachable else None,
        version=version,
        libraries=libraries,
        roots=None
        if roots is None or error is not None
        else _roots(roster, name, roots, libraries),
        error=error,
        health=player_health(roster, name),
    )


def _roots(
    roster: Roster, name: str, roots: Sequence[str], libraries: Sequence[Library]
) -> tuple[RootCheck, ...]:
    checks = []
    for root in roots:
        try:
            mapped = roster.to_player[name](root)
        except PlayerError as exc:
            checks.append(RootCheck(root, None, None, False, str(exc)))
            continue
        inside = [lib for lib in libraries for path in lib.paths if contains(path, mapped)]
        covered = [lib for lib in libraries for path in lib.paths if contains(mapped, path)]
        if inside:
            checks.append(RootCheck(root, mapped, inside[0].name, True, f"in {inside[0].name!r}"))
        elif covered:
            names = ", ".join(dict.fromkeys(repr(lib.name) for lib in covered))
            checks.append(RootCheck(root, mapped, covered[0].name, True, f"holds {names}"))
        else:
            checks.append(
                RootCheck(root, mapped, None, False, f"{mapped!r} is in none of its libraries")
            )
    return tuple(checks)


def player_health(roster: Roster, name: str) -> Health:
    """Player ``name``'s breaker as this process sees it, without asking the player."""
    state = roster.dispatcher.board.state(name)
    reopen = None
    if state.phase is BreakerPhase.OPEN and state.reopen_at is not None:
        reopen = max(0.0, round(state.reopen_at - roster.dispatcher.board.now(), 1))
    return Health(breaker=state.phase, failures=state.failures, reopen_in=reopen)


__all__ = [
    "Health",
    "PlayerReport",
    "RootCheck",
    "check_player",
    "check_players",
    "player_health",
]
