"""``GET /api/v1/players`` over fake players on loopback HTTP: the same checks as the CLI,
with each player's health, and never a credential."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from fakeplayers.mediabrowser import FakeMediaBrowser, Library
from fakeplayers.plex import TOKEN as PLEX_TOKEN
from fakeplayers.plex import FakePlex, Section
from relayarr.app import Services, build_queue, open_services
from relayarr.config import ServerSettings, Settings
from relayarr.errors import PlayerPathError
from relayarr.jobqueue import open_storage
from relayarr.library.settings import LibrarySettings
from relayarr.players.change import Action, Kind, MediaChange
from relayarr.players.roster import Roster
from relayarr.players.settings import PlayerSettings
from relayarr.web import create_app

KEY = "test-key-0123456789abcdef"
WRONG = "wrong-jellyfin-key-123"


def to_player(player: PlayerSettings) -> Callable[[str], str]:
    def mapped(path: str) -> str:
        if path.startswith("/srv/media/"):
            return "/data/" + path.removeprefix("/srv/media/")
        raise PlayerPathError(player.name, path)

    return mapped


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    plex = FakePlex()
    plex.state.sections = [Section("1", "Movies", "movie", ["/data/movies"])]
    jellyfin = FakeMediaBrowser("jellyfin")
    jellyfin.state.libraries = [Library("Movies", ["/data/movies"])]
    await plex.start()
    await jellyfin.start()
    players = [
        PlayerSettings.model_validate(
            {"name": "plex", "type": "plex", "url": plex.url, "token": PLEX_TOKEN}
        ),
        PlayerSettings.model_validate(
            {"name": "jf", "type": "jellyfin", "url": jellyfin.url, "token": WRONG}
        ),
    ]
    roster = Roster(players, {}, to_player)
    storage = await open_storage(f"sqlite:///{tmp_path}/queue.db")
    roots = [
        ("/srv/media/movies", "movies"),
        ("/srv/media/music", "series"),
        ("/mnt/elsewhere", "movies"),
    ]
    settings = Settings(
        data_dir=tmp_path,
        library=LibrarySettings.model_validate(
            {"roots": [{"path": path, "kind": kind} for path, kind in roots]}
        ),
    )
    async with open_services(settings, create=True) as opened:
        services = Services(library=opened.library, players=roster)
        app = create_app(
            build_queue(settings, storage), ServerSettings(), api_key=KEY, services=services
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relayarr.test") as http:
            # One failed notification first, so the health shows a counted failure.
            await roster.dispatcher.dispatch(
                MediaChange(Action.ADDED, Kind.MOVIE, "/srv/media/movies/X", None, "X")
            )
            yield http
    await roster.aclose()
    await storage.aclose()
    await plex.stop()
    await jellyfin.stop()


async def test_every_player_is_checked_with_its_health_and_no_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/players", headers={"X-Api-Key": KEY})

    assert response.status_code == 200
    plex, jellyfin = response.json()["players"]
    assert plex["error"] is None
    assert plex["ok"] is False  # two roots land in none of its libraries
    assert plex["version"] == "Plex 1.41.3.9314-a0bfb8370 (fake-plex)"
    assert plex["libraries"] == [{"name": "Movies", "kind": "movie", "paths": ["/data/movies"]}]
    assert plex["roots"] == [
        {
            "root": "/srv/media/movies",
            "player_path": "/data/movies",
            "library": "Movies",
            "ok": True,
            "message": "in 'Movies'",
        },
        {
            "root": "/srv/media/music",
            "player_path": "/data/music",
            "library": None,
            "ok": False,
            "message": "'/data/music' is in none of its libraries",
        },
        {
            "root": "/mnt/elsewhere",
            "player_path": None,
            "library": None,
            "ok": False,
            "message": "plex: path '/mnt/elsewhere' is outside every library of this player",
        },
    ]
    assert plex["health"] == {"breaker": "closed", "failures": 0, "reopen_in": None}
    assert jellyfin == {
        "name": "jf",
        "type": "jellyfin",
        "group": "jf",
        "url": jellyfin["url"],
        "ok": False,
        "reachable": True,
        "authenticated": False,
        "version": None,
        "libraries": [],
        "roots": None,
        "error": "jf: refused the credentials (HTTP 401 to GET /System/Info)",
        "health": {"breaker": "closed", "failures": 1, "reopen_in": None},
    }
    assert PLEX_TOKEN not in response.text
    assert WRONG not in response.text


async def test_the_players_need_the_api_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/players")
    assert response.status_code == 401


async def test_no_players_configured_is_an_empty_list(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/queue.db")
    app = create_app(
        build_queue(Settings(data_dir=tmp_path), storage), ServerSettings(), api_key=KEY
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relayarr.test") as http:
        response = await http.get("/api/v1/players", headers={"X-Api-Key": KEY})
    await storage.aclose()
    assert response.json() == {"players": []}
