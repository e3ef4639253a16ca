"""The Jellyfin and Emby notifiers against fake servers over loopback HTTP: the exact
requests they send, and a clear error for every way a server can fail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fakeplayers.mediabrowser import TOKEN, FakeMediaBrowser, Item, Library
from relayarr.errors import PlayerAuthFailed, PlayerBadAnswer, PlayerPathError, PlayerUnreachable
from relayarr.players.change import Action, Kind, MediaChange
from relayarr.players.emby import EmbyNotifier
from relayarr.players.jellyfin import JellyfinNotifier
from relayarr.players.mediabrowser import MediaBrowserNotifier
from relayarr.players.notifier import Outcome
from relayarr.players.settings import PlayerSettings

LOCAL = "/srv/media/movies"
REMOTE = "/data/movies"
FOLDER = f"{LOCAL}/Arrival (2016)"
FILE = f"{FOLDER}/Arrival (2016).mkv"
REMOTE_FILE = f"{REMOTE}/Arrival (2016)/Arrival (2016).mkv"


def to_player(path: str) -> str:
    if path == LOCAL or path.startswith(LOCAL + "/"):
        return REMOTE + path[len(LOCAL) :]
    raise PlayerPathError("media", path)


def added(action: Action = Action.ADDED) -> MediaChange:
    return MediaChange(action, Kind.MOVIE, FOLDER, FILE, "Arrival", 2016)


@pytest.fixture(params=["jellyfin", "emby"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[FakeMediaBrowser]:
    fake = FakeMediaBrowser(request.param)
    fake.state.libraries = [Library("Movies", [REMOTE], "movies", "f137a2dd")]
    await fake.start()
    yield fake
    await fake.stop()


def make(
    server: FakeMediaBrowser, *, token: str = TOKEN, timeout: float = 5.0
) -> MediaBrowserNotifier:
    settings = PlayerSettings.model_validate(
        {
            "name": "media",
            "type": server.flavour,
            "url": server.url,
            "token": token,
            "timeout": timeout,
        }
    )
    kind = JellyfinNotifier if server.flavour == "jellyfin" else EmbyNotifier
    return kind(settings, to_player)


@pytest.fixture
async def notifier(server: FakeMediaBrowser) -> AsyncIterator[MediaBrowserNotifier]:
    notifier = make(server)
    yield notifier
    await notifier.aclose()


def auth_of(server: FakeMediaBrowser) -> tuple[str, str]:
    if server.flavour == "jellyfin":
        return "authorization", f'MediaBrowser Token="{TOKEN}"'
    return "x-emby-token", TOKEN


async def test_check_reads_version_and_libraries_with_the_servers_own_auth(
    server: FakeMediaBrowser, notifier: MediaBrowserNotifier
) -> None:
    info = await notifier.check()

    expected = "Jellyfin 10.10.3" if server.flavour == "jellyfin" else "Emby 4.8.10.0"
    assert info.version == f"{expected} (fake-{server.flavour})"
    assert [(lib.name, lib.paths, lib.kind) for lib in info.libraries] == [
        ("Movies", (REMOTE,), "movies")
    ]
    header, value = auth_of(server)
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", f"{server.prefix}/System/Info"),
        ("GET", f"{server.prefix}/Library/VirtualFolders"),
    ]
    assert all(r.headers[header] == value for r in server.requests)


async def test_a_new_movie_is_reported_as_created_in_the_servers_path_form(
    server: FakeMediaBrowser, notifier: MediaBrowserNotifier
) -> None:
    [delivery] = await notifier.notify([added()])

    assert delivery.outcome is Outcome.OK
    assert "not in the library yet" in delivery.message
    [post] = server.calls("POST")
    assert post.path == f"{server.prefix}/Library/Media/Updated"
    assert post.headers["content-type"] == "application/json"
    assert post.json() == {"Updates": [{"Path": REMOTE_FILE, "UpdateType": "Created"}]}
    [lookup] = server.calls("GET", f"{server.prefix}/Items")
    assert lookup.query == {
        "Recursive": "true",
        "IncludeItemTypes": "Movie",
        "Fields": "Path",
        "Limit": "200",
        "Years": "2016",
        "StartIndex": "0",
    }


async def test_a_changed_movie_the_server_knows_is_refreshed_by_id(
    server: FakeMediaBrowser, notifier: MediaBrowserNotifier
) -> None:
    server.state.items = [
        Item("aa11", "Arrival", REMOTE_FILE.replace("Arrival", "Other"), "Movie", 2016),
        Item("bb22", "Arrival", REMOTE_FILE, "Movie", 2016),
    ]

    [delivery] = await notifier.notify([added(Action.CHANGED)])

    assert delivery.outcome is Outcome.OK
    assert delivery.message.endswith("refreshed item bb22")
    update, refresh = server.calls("POST")
    assert update.json() == {"Updates": [{"Path": REMOTE_FILE, "UpdateType": "Modified"}]}
    assert refresh.path == f"{server.prefix}/Items/bb22/Refresh"
    assert refresh.query == {
        "MetadataRefreshMode": "Default",
        "ImageRefreshMode": "Default",
        "ReplaceAllMetadata": "false",
        "ReplaceAllImages": "false",
    }


async def test_the_item_lookup_pages_through_a_large_library(
    server: FakeMediaBrowser, notifier: MediaBrowserNotifier
) -> None:
    server.state.items = [
        Item(f"id{n}", f"M{n}", f"{REMOTE}/M{n}/M{n}.mkv", "Movie", 2016) for n in range(450)
    ]
    server.state.items.append(Item("last", "Arrival", REMOTE_FILE, "Movie", 2016))

    [delivery] = await notifier.notify([added(Action.CHANGED)])

    assert delivery.message.endswith("refreshed item last")
    pages = [r.query["StartIndex"] for r in server.calls("GET", f"{server.prefix}/Items")]
    assert pages == ["0", "200", "400"]


async def test_a_removal_is_reported_as_deleted_and_nothing_else(
    server: FakeMediaBrowser, notifier: MediaBrowserNotifier
) -> None:
    removal = MediaChange(Action.REMOVED, Kind.MOVIE, FOLDER, None, "Arrival")
    [delivery] = await notifier.notify([removal])

    assert delivery.outcome is Outcome.OK
    assert [r.path for r in server.requests] == [
        f"{server.prefix}/Library/VirtualFolders",
        f"{server.prefix}/Library/Media/Updated",
    ]
    assert server.requests[1].json() == {
        "Updates": [{"Path": f"{REMOTE}/Arrival (2016)", "UpdateType": "Deleted"}]
    }


async def test_a_batch_goes_in_one_update(
    server: FakeMediaBrowser, notifier: MediaBrowserNotifier
) -> None:
    changes = [
        MediaChange(Action.REMOVED, Kind.MOVIE, FOLDER, f"{FOLDER}/part{n}.mkv", "A")
        for n in (1, 2, 1)
    ]
    deliveries = await notifier.notify(changes)

    assert [d.outcome for d in deliveries] == [Outcome.OK] * 3
    [update] = server.calls("POST")
    assert [u["Path"] for u in update.json()["Updates"]] == [
        f"{REMOTE}/Arrival (2016)/part1.mkv",
        f"{REMOTE}/Arrival (2016)/part2.mkv",
    ]


async def test_a_path_outside_every_library_is_refused_before_anything_is_sent(
    server: FakeMediaBrowser, notifier: MediaBrowserNotifier
) -> None:
    server.state.libraries = [Library("Films", ["/data/films"])]

    with pytest.raises(PlayerPathError) as raised:
        await notifier.notify([added()])

    assert str(raised.value) == (
        f"media: path {REMOTE_FILE!r} is outside every library of this player "
        "(its library folders: /data/films)"
    )
    assert server.calls("POST") == []
    # The libraries were read again before giving up (a library may have been added).
    assert len(server.calls("GET", f"{server.prefix}/Library/VirtualFolders")) == 2


async def test_playback_shows_in_the_sessions(
    server: FakeMediaBrowser, notifier: MediaBrowserNotifier
) -> None:
    assert not await notifier.is_playing()
    server.state.playing = Item("cc", "Something", "/data/movies/S/S.mkv", "Movie")
    assert await notifier.is_playing()


async def test_a_wrong_api_key_is_an_authentication_failure_without_the_key(
    server: FakeMediaBrowser,
) -> None:
    notifier = make(server, token="wrong-key-zzz")
    try:
        with pytest.raises(PlayerAuthFailed) as raised:
            await notifier.check()
    finally:
        await notifier.aclose()
    assert str(raised.value) == (
        f"media: refused the credentials (HTTP 401 to GET {server.prefix}/System/Info)"
    )
    assert "wrong-key-zzz" not in str(raised.value)


async def test_a_server_error_garbage_or_silence_is_a_clear_error(
    server: FakeMediaBrowser,
) -> None:
    notifier = make(server, timeout=0.5)
    try:
        server.fail_next(503)
        with pytest.raises(PlayerBadAnswer, match=r"answered HTTP 503"):
            await notifier.check()
        server.garbage_next()
        with pytest.raises(PlayerBadAnswer, match=r"/System/Info: the answer is not JSON"):
            await notifier.check()
        server.delay = 2.0
        with pytest.raises(PlayerUnreachable, match=r"no answer within 0\.5 s"):
            await notifier.check()
        server.delay = 0.0
        await server.stop()
        with pytest.raises(PlayerUnreachable, match="media: cannot reach"):
            await notifier.check()
    finally:
        await notifier.aclose()
