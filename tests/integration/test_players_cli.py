"""``relayarr players test`` as a user runs it: a real Kodi, a fake Plex and a Jellyfin that
refuses its key, in one config file; the table, the JSON, the exit status, no secrets."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakeplayers.mediabrowser import FakeMediaBrowser, Library
from fakeplayers.plex import TOKEN as PLEX_TOKEN
from fakeplayers.plex import FakePlex, Section
from kodi import KodiServer, kodi_server

pytestmark = pytest.mark.slow

WRONG_KEY = "wrong-jellyfin-key-987"


async def relayarr(config: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "relayarr",
        "--config",
        str(config),
        "players",
        "test",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def plex() -> AsyncIterator[FakePlex]:
    fake = FakePlex()
    fake.state.sections = [Section("1", "Movies", "movie", ["/data/movies"])]
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def jellyfin() -> AsyncIterator[FakeMediaBrowser]:
    fake = FakeMediaBrowser("jellyfin")
    fake.state.libraries = [Library("Films", ["/data/films"])]
    await fake.start()
    yield fake
    await fake.stop()


def write_config(path: Path, kodi: KodiServer, plex: FakePlex, jellyfin: FakeMediaBrowser) -> Path:
    path.write_text(
        f"""
[[players]]
name = "living-room"
type = "kodi"
url = "{kodi.url}"
username = "{kodi.username}"
password = "{kodi.password}"
group = "kodi"

[[players]]
name = "plex"
type = "plex"
url = "{plex.url}"
token = "{PLEX_TOKEN}"

[[players]]
name = "jelly"
type = "jellyfin"
url = "{jellyfin.url}"
token = "{WRONG_KEY}"

[groups.kodi]
mode = "one"
"""
    )
    return path


async def test_the_table_shows_every_player_and_exits_1_when_one_fails(
    tmp_path: Path, plex: FakePlex, jellyfin: FakeMediaBrowser
) -> None:
    kodi = kodi_server()
    config = write_config(tmp_path / "relayarr.toml", kodi, plex, jellyfin)

    code, out, err = await relayarr(config)

    assert code == 1, err
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "kodi" in lines["living-room"]
    assert "Kodi 20." in out
    assert "Movies: " + kodi.movies_source in out
    assert "TV Shows: " in out
    assert "Movies: /data/movies" in out
    assert "ok" in lines["plex"]
    assert "FAILED" in lines["jelly"]
    assert "jelly: refused the credentials (HTTP 401 to GET /System/Info)" in out
    for secret in (kodi.password, PLEX_TOKEN, WRONG_KEY):
        assert secret not in out + err


async def test_json_output_and_exit_0_when_every_player_answers(
    tmp_path: Path, plex: FakePlex, jellyfin: FakeMediaBrowser
) -> None:
    kodi = kodi_server()
    jellyfin.token = WRONG_KEY  # the configured key is right this time
    config = write_config(tmp_path / "relayarr.toml", kodi, plex, jellyfin)

    code, out, err = await relayarr(config, "--json")

    assert code == 0, out + err
    players = {p["name"]: p for p in json.loads(out)["players"]}
    assert sorted(players) == ["jelly", "living-room", "plex"]
    kodi_report = players["living-room"]
    assert kodi_report["reachable"] is True
    assert kodi_report["authenticated"] is True
    assert kodi_report["group"] == "kodi"
    assert [lib["paths"] for lib in kodi_report["libraries"]] == [
        [kodi.movies_source],
        [kodi.tvshows_source],
    ]
    assert players["jelly"]["version"] == "Jellyfin 10.10.3 (fake-jellyfin)"


async def test_a_bad_config_is_one_error_line_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "relayarr.toml"
    config.write_text('[[players]]\nname = "x"\ntype = "plex"\nurl = "http://nas:32400"\n')

    code, out, err = await relayarr(config)

    assert code == 1
    assert out == ""
    assert err.strip() == (
        f"error: invalid configuration: {config}: players.0: Value error, a plex player needs token"
    )
