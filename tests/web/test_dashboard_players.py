"""The players page in-process, against fake Jellyfin servers over loopback HTTP: groups and
health without asking any player, the CSRF-checked test button and what it shows, and no
credential anywhere on the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakeplayers.mediabrowser import TOKEN, FakeMediaBrowser, Library
from relayarr.players.roster import Roster
from web.library_dash import LibraryDash, library_dash

BACKUP_TOKEN = "backup-secret-token-4242"


@dataclass
class Players:
    dash: LibraryDash
    jellyfin: FakeMediaBrowser
    backup: FakeMediaBrowser

    @property
    def roster(self) -> Roster:
        roster = self.dash.app.state.relayarr.services.players
        assert isinstance(roster, Roster)
        return roster

    async def page(self) -> str:
        response = await self.dash.client.get("/players")
        assert response.status_code == 200
        assert TOKEN not in response.text
        assert BACKUP_TOKEN not in response.text
        return response.text


@pytest.fixture
async def players(tmp_path: Path) -> AsyncIterator[Players]:
    jellyfin, backup = FakeMediaBrowser("jellyfin"), FakeMediaBrowser("jellyfin", BACKUP_TOKEN)
    jellyfin.state.libraries = [Library("Movies", ["/media/movies"])]
    await jellyfin.start()
    await backup.start()
    await backup.stop()  # its port is known and closed: a player that is down
    movies = tmp_path / "media" / "movies"
    config = {
        "players": [
            {
                "name": "living-room",
                "type": "jellyfin",
                "url": jellyfin.url,
                "token": TOKEN,
                "group": "jellyfin",
                "mappings": [{"from": str(movies), "to": "/media/movies"}],
            },
            {
                "name": "backup",
                "type": "jellyfin",
                "url": backup.url,
                "token": BACKUP_TOKEN,
                "group": "jellyfin",
                "timeout": 2,
            },
        ],
        "groups": {"jellyfin": {"mode": "one"}},
    }
    try:
        async with library_dash(tmp_path, **config) as dash:
            yield Players(dash, jellyfin, backup)
    finally:
        await jellyfin.stop()


async def test_groups_and_health_show_without_asking_any_player(players: Players) -> None:
    html = await players.page()
    assert players.jellyfin.requests == []
    assert '<section class="card group" data-group="jellyfin">' in html
    assert html.index('data-player="living-room"') < html.index('data-player="backup"')
    assert html.count('<span class="badge b-closed">closed</span>') == 2
    assert "every member can be told" in html
    assert "check-result" not in html

    board = players.roster.dispatcher.board
    for _ in range(3):  # its breaker_threshold
        board.failed("backup")
    html = await players.page()
    backup = html[html.index('data-player="backup"') :]
    assert '<span class="badge b-open">open</span>' in backup
    assert re.search(r"<dt>failures in a row</dt><dd>3</dd>", backup)
    assert "<dt>asked again in</dt>" in backup
    assert "1 of 2 members can be told; the first healthy one is" in html


async def test_the_test_button_checks_one_player_and_shows_what_it_found(
    players: Players,
) -> None:
    refused = await players.dash.client.post("/players/test", data={"player": "living-room"})
    assert refused.status_code == 403
    assert players.jellyfin.requests == []

    response = await players.dash.post("/players/test", {"player": "living-room"})
    assert response.status_code == 303
    assert response.headers["location"] == "/players#player-1"
    assert players.jellyfin.calls("GET", "/System/Info")
    html = await players.page()
    assert "Tested living-room: all checks passed." not in html  # a root is not seen
    result = html[html.index('data-player="living-room"') : html.index('data-player="backup"')]
    assert '<dd class="reachable"><span class="ok-text">yes</span></dd>' in result
    assert '<dd class="authenticated"><span class="ok-text">yes</span></dd>' in result
    assert '<dd class="version">Jellyfin 10.10.3 (fake-jellyfin)</dd>' in result
    assert "Movies" in result
    assert "<code>/media/movies</code>" in result
    movies, tv = players.dash.movies, players.dash.tv
    assert f"<code>{movies}</code> → <code>/media/movies</code>: in &#39;Movies&#39;" in result
    assert f"<code>{tv}</code>: living-room: path &#39;{tv}&#39; is outside every" in result
    assert players.jellyfin.calls("POST") == []  # a test tells the player nothing


async def test_a_player_that_is_down_shows_why_without_its_token(players: Players) -> None:
    response = await players.dash.post("/players/test", {"player": "backup"})
    assert response.headers["location"] == "/players#player-2"
    html = await players.page()
    backup = html[html.index('data-player="backup"') :]
    assert '<dd class="reachable"><span class="error-text">no</span></dd>' in backup
    assert '<dd class="authenticated"><span class="muted">unknown</span></dd>' in backup
    assert "cannot reach" in backup
    assert "Tested backup: backup: cannot reach" in html  # the message, shown once


async def test_an_unknown_player_is_named(players: Players) -> None:
    response = await players.dash.post("/players/test", {"player": "<b>nobody</b>"})
    assert response.headers["location"] == "/players"
    html = await players.page()
    assert "No player is named &#39;&lt;b&gt;nobody&lt;/b&gt;&#39;." in html
