"""The players' plain values: media changes, paths in a player's form, records, breakers."""

from __future__ import annotations

import re

import pytest

from relayarr.errors import ChangeInvalid
from relayarr.jobqueue import BreakerPhase, BreakerPolicy
from relayarr.players.change import Action, Kind, MediaChange, MediaIds
from relayarr.players.health import BreakerBoard
from relayarr.players.job import notify_payload, read_notify_payload
from relayarr.players.notifier import Outcome
from relayarr.players.pathforms import as_directory, contains, longest_container, parent
from relayarr.players.record import DispatchRecord, TargetResult

EPISODE = MediaChange(
    Action.ADDED,
    Kind.EPISODE,
    "/srv/tv/The Show (2020)",
    "/srv/tv/The Show (2020)/Season 01/The Show - S01E02.mkv",
    "The Show",
    2020,
    MediaIds(tvdb=12345, imdb="tt0000001"),
    season=1,
    episode=2,
)


def test_a_change_survives_json() -> None:
    assert MediaChange.from_json(EPISODE.to_json()) == EPISODE
    removal = MediaChange(Action.REMOVED, Kind.MOVIE, "/srv/movies/X (2000)", None, "X")
    assert MediaChange.from_json(removal.to_json()) == removal
    assert removal.path == "/srv/movies/X (2000)"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"action": "renamed"}, "action: must be one of added, changed, removed, got 'renamed'"),
        ({"kind": None}, "kind: must be one of movie, episode"),
        ({"folder": ""}, "folder: must be a non-empty string"),
        ({"file": "/elsewhere/x.mkv"}, "file: '/elsewhere/x.mkv' is not inside folder"),
        ({"file": "/srv/tv/The Show (2020) 2/x.mkv"}, "is not inside folder"),
        ({"year": "2020"}, "year: must be an integer or null"),
        ({"season": True}, "season: must be an integer or null"),
        ({"ids": {"tmdb": "x"}}, "ids.tmdb: must be an integer or null"),
        ({"ids": []}, "ids: must be a JSON object"),
    ],
)
def test_a_bad_change_names_its_field(patch: dict[str, object], message: str) -> None:
    data = EPISODE.to_json() | patch
    with pytest.raises(ChangeInvalid, match=re.escape(message)):
        MediaChange.from_json(data)


def test_a_change_must_be_an_object() -> None:
    with pytest.raises(ChangeInvalid, match="change: must be a JSON object"):
        MediaChange.from_json([1, 2])


@pytest.mark.parametrize(
    ("root", "path", "inside"),
    [
        ("/data/movies", "/data/movies/X (2000)", True),
        ("/data/movies/", "/data/movies", True),
        ("/data/movies", "/data/movies-4k/X", False),
        ("nfs://nas/movies", "nfs://nas/movies/X/", True),
        ("nfs://nas/movies", "nfs://nas2/movies/X", False),
        ("smb://NAS/movies", "smb://nas/movies/X", True),  # the host part ignores case
        ("D:\\Movies", "d:\\movies\\X (2000)", True),  # Windows ignores case
        ("D:\\Movies", "D:/Movies/X", True),
        ("\\\\nas\\movies", "\\\\nas\\movies\\X", True),
        ("\\\\nas\\movies", "D:\\movies\\X", False),
    ],
)
def test_containment_is_by_whole_components(root: str, path: str, inside: bool) -> None:
    assert contains(root, path) is inside


@pytest.mark.parametrize(
    ("path", "directory", "up"),
    [
        ("/data/movies/X", "/data/movies/X/", "/data/movies"),
        ("/data/movies/X/", "/data/movies/X/", "/data/movies"),
        ("nfs://nas/movies/X", "nfs://nas/movies/X/", "nfs://nas/movies"),
        ("D:\\Movies\\X", "D:\\Movies\\X\\", "D:\\Movies"),
        ("D:\\Movies", "D:\\Movies\\", "D:\\"),
    ],
)
def test_directories_keep_the_style_of_their_path(path: str, directory: str, up: str) -> None:
    assert as_directory(path) == directory
    assert parent(path) == up


def test_the_longest_container_wins() -> None:
    roots = ["/data", "/data/movies", "/data/movies-4k"]
    assert longest_container("/data/movies/X", roots) == "/data/movies"
    assert longest_container("/data/tv/Y", roots) == "/data"
    assert longest_container("/other", roots) is None


def test_a_record_survives_json_and_rejects_garbage() -> None:
    record = DispatchRecord(
        done=frozenset({"plex", "den"}),
        results=(
            TargetResult("plex", "plex", Outcome.OK, "asked"),
            TargetResult("kodi", "kodi", Outcome.FAILED, "down", retryable=True),
        ),
        retry_after=60.0,
    )
    assert DispatchRecord.from_json(record.to_json()) == record
    assert record.failures == (record.results[1],)
    assert not record.complete
    with pytest.raises(ChangeInvalid, match=r"results\[0\]\.outcome"):
        DispatchRecord.from_json({"results": [{"player": "p", "group": "g", "message": "m"}]})
    with pytest.raises(ChangeInvalid, match="done: must be an array of player names"):
        DispatchRecord.from_json({"done": "plex"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_player_breaker_opens_cools_down_and_lets_one_probe_through() -> None:
    clock = Clock()
    board = BreakerBoard({"kodi": BreakerPolicy(threshold=2, cooldown=30)}, clock)
    assert board.admit("kodi").allowed
    board.failed("kodi")
    assert board.admit("kodi").allowed  # one failure is not enough
    board.failed("kodi")
    refused = board.admit("kodi")
    assert not refused.allowed
    assert refused.wait == 30.0
    clock.now += 31
    probe = board.admit("kodi")
    assert probe.allowed
    assert not board.admit("kodi").allowed  # only one probe at a time
    board.failed("kodi")  # the probe failed: open again, for twice as long
    assert board.admit("kodi").wait == 60.0
    clock.now += 61
    assert board.admit("kodi").allowed
    board.succeeded("kodi")
    assert board.state("kodi").phase is BreakerPhase.CLOSED
    assert board.state("kodi").failures == 0


def test_a_probe_without_a_verdict_hands_the_probe_back() -> None:
    clock = Clock()
    board = BreakerBoard({"plex": BreakerPolicy(threshold=1, cooldown=10)}, clock)
    board.failed("plex")
    clock.now += 11
    probe = board.admit("plex")
    assert probe.allowed
    board.release("plex", probe)  # say, a path error: says nothing about the player
    assert board.admit("plex").allowed


def test_a_notify_players_payload_carries_the_change_and_the_players_told() -> None:
    payload = notify_payload(EPISODE, done=["plex", "den", "plex"])
    assert payload["done"] == ["den", "plex"]
    assert read_notify_payload(payload) == (EPISODE, frozenset({"den", "plex"}))
    with pytest.raises(ChangeInvalid, match="change: must be a JSON object"):
        read_notify_payload({"done": []})
    with pytest.raises(ChangeInvalid, match="done: must be an array of player names"):
        read_notify_payload({"change": EPISODE.to_json(), "done": [1]})
