"""The dispatcher over fake players on loopback HTTP: groups, faults, breakers, retries to
the failed players only, playback, and bursts that never pile requests on a player."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import pytest

from fakeplayers.mediabrowser import TOKEN as MB_TOKEN
from fakeplayers.mediabrowser import FakeMediaBrowser, Item, Library
from fakeplayers.plex import TOKEN as PLEX_TOKEN
from fakeplayers.plex import FakePlex, Section
from fakeplayers.server import FakeServer
from relayarr.errors import PlayerPathError
from relayarr.players.change import Action, Kind, MediaChange
from relayarr.players.notifier import Outcome
from relayarr.players.record import DispatchRecord
from relayarr.players.roster import Roster
from relayarr.players.settings import GroupSettings, PlayerSettings

LOCAL = "/srv/media"
REMOTE = "/data"


def identity_below_local(path: str) -> str:
    if path == LOCAL or path.startswith(LOCAL + "/"):
        return REMOTE + path[len(LOCAL) :]
    raise PlayerPathError("?", path)


def movie(name: str, action: Action = Action.ADDED) -> MediaChange:
    folder = f"{LOCAL}/movies/{name}"
    return MediaChange(action, Kind.MOVIE, folder, f"{folder}/{name}.mkv", name, 2016)


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Fleet:
    plex: FakePlex
    jellyfin: FakeMediaBrowser
    emby: FakeMediaBrowser
    clock: Clock

    @property
    def servers(self) -> Sequence[FakeServer]:
        return (self.plex, self.jellyfin, self.emby)

    def roster(
        self,
        *,
        groups: dict[str, GroupSettings] | None = None,
        group_of: dict[str, str] | None = None,
        to_player: Callable[[PlayerSettings], Callable[[str], str]] = lambda _: (
            identity_below_local
        ),
        **extra: object,
    ) -> Roster:
        group_of = group_of or {}
        players = [
            PlayerSettings.model_validate(
                {
                    "name": name,
                    "type": name,
                    "url": server.url,
                    "token": token,
                    "timeout": 1,
                    "breaker_threshold": 2,
                    "breaker_cooldown": 30,
                    **({"group": group_of[name]} if name in group_of else {}),
                    **extra,
                }
            )
            for name, server, token in (
                ("plex", self.plex, PLEX_TOKEN),
                ("jellyfin", self.jellyfin, MB_TOKEN),
                ("emby", self.emby, MB_TOKEN),
            )
        ]
        return Roster(players, groups or {}, to_player, clock=self.clock)


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    plex = FakePlex()
    plex.state.sections = [Section("1", "Movies", "movie", [f"{REMOTE}/movies"])]
    jellyfin = FakeMediaBrowser("jellyfin")
    emby = FakeMediaBrowser("emby")
    for media in (jellyfin, emby):
        media.state.libraries = [Library("Movies", [f"{REMOTE}/movies"])]
    fleet = Fleet(plex, jellyfin, emby, Clock())
    for server in fleet.servers:
        await server.start()
    yield fleet
    for server in fleet.servers:
        await server.stop()


@pytest.fixture
async def roster(fleet: Fleet) -> AsyncIterator[Roster]:
    roster = fleet.roster()
    yield roster
    await roster.aclose()


def outcomes(record: DispatchRecord) -> dict[str, Outcome]:
    return {result.player: result.outcome for result in record.results}


async def test_every_group_is_told_and_the_record_says_so(fleet: Fleet, roster: Roster) -> None:
    record = await roster.dispatcher.dispatch(movie("Arrival (2016)"))

    assert outcomes(record) == dict.fromkeys(("plex", "jellyfin", "emby"), Outcome.OK)
    assert record.done == {"plex", "jellyfin", "emby"}
    assert record.complete
    assert DispatchRecord.from_json(record.to_json()) == record


async def test_down_401_and_garbage_fail_their_player_only_and_a_retry_goes_to_them(
    fleet: Fleet, roster: Roster
) -> None:
    await fleet.plex.stop()
    fleet.jellyfin.token = "the key was rotated"
    fleet.emby.garbage_next()  # the first request (its sessions) gets garbage

    first = await roster.dispatcher.dispatch(movie("Arrival (2016)"))

    assert outcomes(first) == dict.fromkeys(("plex", "jellyfin", "emby"), Outcome.FAILED)
    messages = {r.player: r.message for r in first.results}
    assert messages["plex"].startswith(f"plex: cannot reach {fleet.plex.url}")
    assert messages["jellyfin"] == ("jellyfin: refused the credentials (HTTP 401 to GET /Sessions)")
    assert messages["emby"] == "emby: GET /emby/Sessions: the answer is not JSON"
    assert first.retry_after == GroupSettings().retry_seconds
    assert first.done == frozenset()
    for name in ("plex", "jellyfin", "emby"):
        assert roster.dispatcher.board.state(name).failures == 1

    # Emby recovers by itself; the retry tells it, and only the others fail again.
    second = await roster.dispatcher.dispatch(movie("Arrival (2016)"), done=first.done)
    assert outcomes(second) == {
        "plex": Outcome.FAILED,
        "jellyfin": Outcome.FAILED,
        "emby": Outcome.OK,
    }
    assert second.done == {"emby"}
    emby_posts = len(fleet.emby.calls("POST"))

    # Plex is back and Jellyfin has its key: the third attempt leaves Emby alone.
    await fleet.plex.start()
    fleet.jellyfin.token = MB_TOKEN
    fleet.clock.now += 31  # both breakers opened after two failures; their cool-down is over
    third = await roster.dispatcher.dispatch(movie("Arrival (2016)"), done=second.done)
    assert outcomes(third) == {"plex": Outcome.OK, "jellyfin": Outcome.OK}
    assert third.done == {"plex", "jellyfin", "emby"}
    assert third.complete
    assert len(fleet.emby.calls("POST")) == emby_posts  # never told twice


async def test_an_open_breaker_keeps_requests_off_a_dead_player_until_its_cooldown(
    fleet: Fleet, roster: Roster
) -> None:
    fleet.jellyfin.fail_next(500, times=10)
    for _ in range(2):
        await roster.dispatcher.dispatch(movie("A (2000)"))
    asked = len(fleet.jellyfin.requests)

    record = await roster.dispatcher.dispatch(movie("B (2001)"))

    [result] = [r for r in record.results if r.player == "jellyfin"]
    assert result.outcome is Outcome.FAILED
    assert result.message == (
        "not asked: its circuit breaker is open after repeated failures (next try in 30 s)"
    )
    assert len(fleet.jellyfin.requests) == asked  # not one request while open
    assert record.retry_after == 30.0
    assert outcomes(record)["plex"] is Outcome.OK  # the other groups were still told
    fleet.clock.now += 31
    probe = await roster.dispatcher.dispatch(movie("B (2001)"), done=record.done)
    assert outcomes(probe) == {"jellyfin": Outcome.FAILED}  # the probe hit the 500s
    assert roster.dispatcher.board.state("jellyfin").trips == 2


async def test_a_slow_player_fails_on_its_timeout_without_holding_up_the_others(
    fleet: Fleet, roster: Roster
) -> None:
    fleet.emby.delay = 3.0

    record = await roster.dispatcher.dispatch(movie("Slow (2000)"))

    assert outcomes(record)["emby"] is Outcome.FAILED
    assert "no answer within 1 s" in next(r.message for r in record.results if r.player == "emby")
    assert record.done == {"plex", "jellyfin"}


async def test_a_one_group_tells_its_first_healthy_member_and_falls_back(
    fleet: Fleet,
) -> None:
    roster = fleet.roster(group_of={"jellyfin": "media", "emby": "media"})
    try:
        fleet.jellyfin.fail_next(503)
        record = await roster.dispatcher.dispatch(movie("Fallback (2000)"))
        again = await roster.dispatcher.dispatch(movie("Second (2000)"))
    finally:
        await roster.aclose()

    assert [(r.player, r.outcome) for r in record.results if r.group == "media"] == [
        ("jellyfin", Outcome.FAILED),
        ("emby", Outcome.OK),
    ]
    assert "media" not in {r.group for r in record.failures if r.player == "emby"}
    assert record.complete  # the group took the change: no retry for jellyfin
    assert [(r.player, r.outcome) for r in again.results if r.group == "media"] == [
        ("jellyfin", Outcome.OK)  # healthy again: first in line
    ]


async def test_an_all_group_tells_every_member(fleet: Fleet) -> None:
    roster = fleet.roster(
        group_of={"jellyfin": "media", "emby": "media"},
        groups={"media": GroupSettings(mode="all")},  # type: ignore[arg-type]
    )
    try:
        record = await roster.dispatcher.dispatch(movie("Everyone (2000)"))
    finally:
        await roster.aclose()
    assert outcomes(record) == dict.fromkeys(("plex", "jellyfin", "emby"), Outcome.OK)


async def test_playback_defers_skips_or_passes_a_member_over(fleet: Fleet) -> None:
    fleet.jellyfin.state.playing = Item("x", "X", f"{REMOTE}/movies/X/X.mkv", "Movie")
    roster = fleet.roster(
        group_of={"jellyfin": "media", "emby": "media", "plex": "plex"},
        groups={
            "media": GroupSettings(),  # one, defer
            "plex": GroupSettings(during_playback="skip"),  # type: ignore[arg-type]
        },
    )
    try:
        record = await roster.dispatcher.dispatch(movie("Quiet (2000)"))
        fleet.plex.state.playing = "movie"
        fleet.emby.state.playing = fleet.jellyfin.state.playing
        busy = await roster.dispatcher.dispatch(movie("Busy (2000)"))
    finally:
        await roster.aclose()

    by_player = {r.player: (r.outcome, r.message) for r in record.results}
    assert by_player["jellyfin"] == (Outcome.SKIPPED, "a video is playing; emby took it")
    assert by_player["emby"][0] is Outcome.OK
    assert fleet.jellyfin.calls("POST") == []  # never disturbed
    assert record.complete

    by_player = {r.player: (r.outcome, r.message) for r in busy.results}
    assert by_player["plex"] == (Outcome.SKIPPED, "skipped: a video is playing")
    assert by_player["jellyfin"][0] is Outcome.DEFERRED
    assert by_player["emby"] == (
        Outcome.DEFERRED,
        "deferred: a video is playing; retry in 300 s",
    )
    assert busy.done == {"plex"}
    assert busy.retry_after == 300.0


async def test_a_path_outside_a_players_libraries_fails_it_for_good_without_its_breaker(
    fleet: Fleet,
) -> None:
    def mapping(player: PlayerSettings) -> Callable[[str], str]:
        if player.name == "emby":
            return lambda path: "/elsewhere" + path
        return identity_below_local

    roster = fleet.roster(to_player=mapping)
    try:
        record = await roster.dispatcher.dispatch(movie("Lost (2000)"))
    finally:
        await roster.aclose()

    [failure] = record.failures
    assert failure.player == "emby"
    assert failure.message == (
        "emby: path '/elsewhere/srv/media/movies/Lost (2000)/Lost (2000).mkv' is outside "
        "every library of this player (its library folders: /data/movies)"
    )
    assert not failure.retryable
    assert record.complete  # retrying cannot fix a mapping
    assert roster.dispatcher.board.state("emby").failures == 0
    assert fleet.emby.calls("POST") == []


async def test_a_burst_of_200_changes_never_puts_two_requests_on_one_player(
    fleet: Fleet,
) -> None:
    # 200 episodes of 10 shows imported at once, the players answering slowly.
    roster = fleet.roster(timeout=10)
    for server in fleet.servers:
        server.delay = 0.02
    changes = [
        MediaChange(
            Action.ADDED,
            Kind.EPISODE,
            f"{LOCAL}/movies/Show {n % 10}",
            f"{LOCAL}/movies/Show {n % 10}/S01E{n:03}.mkv",
            f"Show {n % 10}",
            season=1,
            episode=n,
        )
        for n in range(200)
    ]
    try:
        records = await asyncio.gather(*(roster.dispatcher.dispatch(c) for c in changes))
    finally:
        await roster.aclose()

    assert all(record.complete for record in records)
    for server in fleet.servers:
        assert server.max_in_flight == 1
    scans = [r.query["path"] for r in fleet.plex.calls("GET") if r.path.endswith("/refresh")]
    for show in range(10):
        # One scan running and one batch waiting behind it per folder, at most.
        assert 1 <= scans.count(f"{REMOTE}/movies/Show {show}") <= 2
    for server in (fleet.jellyfin, fleet.emby):
        updates = server.calls("POST", f"{server.prefix}/Library/Media/Updated")
        assert len(updates) <= 20
        reported = [u["Path"] for call in updates for u in call.json()["Updates"]]
        assert sorted(reported) == sorted(identity_below_local(c.path) for c in changes)
