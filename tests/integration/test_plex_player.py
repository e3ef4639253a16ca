"""The Plex notifier against a fake Plex over loopback HTTP: sections, the longest
location match, the partial-scan request, and every way a server can fail."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from fakeplayers.plex import TOKEN, FakePlex, Section
from relayarr.errors import PlayerAuthFailed, PlayerBadAnswer, PlayerPathError
from relayarr.players.change import Action, Kind, MediaChange
from relayarr.players.notifier import Outcome
from relayarr.players.plex import PlexNotifier
from relayarr.players.settings import PlayerSettings


def movie(folder: str, action: Action = Action.ADDED) -> MediaChange:
    return MediaChange(action, Kind.MOVIE, folder, f"{folder}/movie.mkv", "M")


@pytest.fixture
async def plex() -> AsyncIterator[FakePlex]:
    fake = FakePlex()
    fake.state.sections = [
        Section("1", "Movies", "movie", ["/data/movies"]),
        Section("2", "Everything", "movie", ["/data"]),
        Section("3", "TV", "show", ["/data/tv", "/archive/tv"]),
    ]
    await fake.start()
    yield fake
    await fake.stop()


def make(
    plex: FakePlex, to_player: Callable[[str], str] = lambda path: path, token: str = TOKEN
) -> PlexNotifier:
    settings = PlayerSettings.model_validate(
        {"name": "plex", "type": "plex", "url": plex.url, "token": token, "timeout": 5}
    )
    return PlexNotifier(settings, to_player)


@pytest.fixture
async def notifier(plex: FakePlex) -> AsyncIterator[PlexNotifier]:
    notifier = make(plex)
    yield notifier
    await notifier.aclose()


async def test_check_reads_the_version_and_every_section_location(
    plex: FakePlex, notifier: PlexNotifier
) -> None:
    info = await notifier.check()

    assert info.version == "Plex 1.41.3.9314-a0bfb8370 (fake-plex)"
    assert [(lib.name, lib.paths, lib.kind) for lib in info.libraries] == [
        ("Movies", ("/data/movies",), "movie"),
        ("Everything", ("/data",), "movie"),
        ("TV", ("/data/tv", "/archive/tv"), "show"),
    ]
    for request in plex.requests:
        assert request.headers["x-plex-token"] == TOKEN
        assert request.headers["accept"] == "application/json"
        assert "X-Plex-Token" not in request.query  # the token never travels in a URL


async def test_the_folder_is_scanned_in_the_section_with_the_longest_location(
    plex: FakePlex, notifier: PlexNotifier
) -> None:
    [delivery] = await notifier.notify([movie("/data/movies/Arrival (2016)")])

    assert delivery == (
        delivery.__class__(
            Outcome.OK, "asked section 'Movies' (1) to scan '/data/movies/Arrival (2016)'"
        )
    )
    assert [(r.method, r.path, r.query) for r in plex.requests] == [
        ("GET", "/library/sections", {}),
        ("GET", "/library/sections/1/refresh", {"path": "/data/movies/Arrival (2016)"}),
    ]


async def test_whole_components_decide_and_sections_are_cached(
    plex: FakePlex, notifier: PlexNotifier
) -> None:
    await notifier.notify([movie("/data/movies-4k/Arrival (2016)")])  # not /data/movies
    await notifier.notify([movie("/archive/tv/Show")])

    refreshes = [(r.path, r.query["path"]) for r in plex.calls("GET") if "refresh" in r.path]
    assert refreshes == [
        ("/library/sections/2/refresh", "/data/movies-4k/Arrival (2016)"),
        ("/library/sections/3/refresh", "/archive/tv/Show"),
    ]
    assert len(plex.calls("GET", "/library/sections")) == 1


async def test_a_folder_in_no_section_reads_the_sections_again_before_failing(
    plex: FakePlex, notifier: PlexNotifier
) -> None:
    await notifier.check()
    plex.state.sections.append(Section("4", "Kids", "movie", ["/kids"]))

    [delivery] = await notifier.notify([movie("/kids/Up (2009)")])  # a section added since

    assert delivery.message == "asked section 'Kids' (4) to scan '/kids/Up (2009)'"
    with pytest.raises(PlayerPathError) as raised:
        await notifier.notify([movie("/nowhere/X")])
    assert str(raised.value).startswith(
        "plex: path '/nowhere/X' is outside every library of this player (its section "
        "locations: /data/movies, /data, /data/tv, /archive/tv, /kids)"
    )


async def test_two_sections_sharing_a_location_are_both_scanned(
    plex: FakePlex, notifier: PlexNotifier
) -> None:
    plex.state.sections.append(Section("5", "Movies 2", "movie", ["/data/movies"]))

    [delivery] = await notifier.notify([movie("/data/movies/X")])

    assert delivery.message == "asked section 'Movies' (1), 'Movies 2' (5) to scan '/data/movies/X'"


async def test_a_removal_scans_the_parent_folder(plex: FakePlex, notifier: PlexNotifier) -> None:
    await notifier.notify([movie("/data/movies/Gone (2001)", Action.REMOVED)])
    await notifier.notify([movie("/data/movies", Action.REMOVED)])  # the location itself

    scanned = [r.query["path"] for r in plex.calls("GET") if "refresh" in r.path]
    assert scanned == ["/data/movies", "/data/movies"]


async def test_windows_locations_match_without_case(plex: FakePlex) -> None:
    plex.state.sections = [Section("7", "Films", "movie", ["D:\\Media\\Films"])]
    notifier = make(plex, to_player=lambda path: "d:\\media\\films" + path.replace("/", "\\"))
    try:
        [delivery] = await notifier.notify([movie("/Heat (1995)")])
    finally:
        await notifier.aclose()
    assert (
        delivery.message
        == "asked section 'Films' (7) to scan 'd:\\\\media\\\\films\\\\Heat (1995)'"
    )


async def test_a_video_session_counts_as_playing_music_does_not(
    plex: FakePlex, notifier: PlexNotifier
) -> None:
    assert not await notifier.is_playing()
    plex.state.playing = "track"
    assert not await notifier.is_playing()
    plex.state.playing = "episode"
    assert await notifier.is_playing()


async def test_a_wrong_token_gets_plex_401_page_as_an_authentication_failure(
    plex: FakePlex,
) -> None:
    notifier = make(plex, token="wrong-token-yyy")
    try:
        with pytest.raises(PlayerAuthFailed, match=r"^plex: refused the credentials \(HTTP 401"):
            await notifier.notify([movie("/data/movies/X")])
    finally:
        await notifier.aclose()


async def test_garbage_or_a_server_error_is_a_bad_answer(
    plex: FakePlex, notifier: PlexNotifier
) -> None:
    plex.garbage_next()
    with pytest.raises(PlayerBadAnswer, match="the answer is not JSON"):
        await notifier.check()
    plex.fail_next(500)
    with pytest.raises(PlayerBadAnswer, match=r"GET / answered HTTP 500"):
        await notifier.check()
