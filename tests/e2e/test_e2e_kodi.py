"""From an *arr's webhook to a real Kodi's library, through a running ``relayarr serve``.

The Kodi is the tests' headless Kodi 20 (``tests/kodi.py``): its movies and tvshows
sources are folders on this machine with the local NFO scraper. relayarr sees those
folders under other paths (its library roots are symbolic links to them, as a NAS is
mounted at different places on different machines), so ``[[players.mappings]]`` turn
relayarr's paths into Kodi's. Every test uses folders of its own, as they share the Kodi
of the session with other tests. Deadlines only stop a broken run from hanging.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_world import ARR_MOVIES, ARR_TV, Player, Server, Site, fixture, make_site, running, walk

from kodi import KodiServer, kodi_server

pytestmark = pytest.mark.slow

PLAYER = "living-room"


@pytest.fixture(scope="module")
def kodi() -> KodiServer:
    return kodi_server()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, kodi: KodiServer) -> Site:
    tmp = tmp_path_factory.mktemp("e2e-kodi")
    (tmp / "nas").mkdir()
    movies, tv = tmp / "nas" / "movies", tmp / "nas" / "tv"
    movies.symlink_to(kodi.movies, target_is_directory=True)
    tv.symlink_to(kodi.tvshows, target_is_directory=True)
    player = Player(
        {
            "name": PLAYER,
            "type": "kodi",
            "url": kodi.url,
            "username": kodi.username,
            "password": kodi.password,
            "verify_timeout": 60,
        },
        mappings=((str(movies), str(kodi.movies)), (str(tv), str(kodi.tvshows))),
    )
    return make_site(tmp, movies=movies, tv=tv, players=(player,))


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    with running(site) as started:
        yield started


def told(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """Every player result of the chain's notify-players jobs."""
    results: list[dict[str, Any]] = []
    for _, node in walk(detail["chain"]):
        if node["type"] == "notify-players":
            assert node["status"] == "completed", node["last_error"]
            results += node["result"]["results"]
    return results


def new_movie(site: Site, title: str) -> tuple[str, str]:
    """A movie folder whose name is not its title: the title can only come from the NFO.
    Returns the folder's and the video's names."""
    folder = f"dl.{uuid.uuid4().hex[:8]}"
    video = f"{folder}.2160p.mkv"
    site.file(site.movies / folder / video)
    site.file(
        site.movies / folder / "movie.nfo",
        f"<movie><title>{title}</title><year>2010</year>"
        '<uniqueid type="tmdb" default="true">27205</uniqueid></movie>',
    )
    return folder, video


def radarr_import(folder: str, video: str) -> dict[str, Any]:
    body = fixture("radarr/download.json")
    body["isUpgrade"] = False
    body["deletedFiles"] = []
    body["movie"].update(title="Release Name", folderPath=f"{ARR_MOVIES}/{folder}")
    body["movieFile"].update(relativePath=video, path=f"{ARR_MOVIES}/{folder}/{video}")
    return body


def in_kodi(kodi: KodiServer, file: Path) -> list[object]:
    return [m["title"] for m in kodi.movies_in_library() if m["file"] == str(file)]


def test_a_radarr_import_ends_in_kodi_under_the_title_of_its_nfo(
    server: Server, site: Site, kodi: KodiServer
) -> None:
    title = f"Inception {uuid.uuid4().hex[:6]}"
    folder, video = new_movie(site, title)
    detail = server.finished(server.webhook("radarr", radarr_import(folder, video)))
    assert [node["type"] for _, node in walk(detail["chain"])] == [
        "webhook",
        "scan-movie",
        "notify-players",
    ]
    (result,) = told(detail)
    assert (result["player"], result["outcome"]) == (PLAYER, "ok")
    assert "verified" in result["message"]
    # Kodi lists the file by its own path (the mapping's), under the NFO's title.
    assert in_kodi(kodi, kodi.movies / folder / video) == [title]


def test_a_sonarr_import_ends_with_the_episode_in_kodi(
    server: Server, site: Site, kodi: KodiServer
) -> None:
    show = f"Show {uuid.uuid4().hex[:6]}"
    stem = f"{show} - S01E03"
    site.file(site.tv / show / "tvshow.nfo", f"<tvshow><title>{show}</title></tvshow>")
    site.file(site.tv / show / "Season 01" / f"{stem}.mkv")
    site.file(
        site.tv / show / "Season 01" / f"{stem}.nfo",
        "<episodedetails><title>The Third One</title><season>1</season>"
        "<episode>3</episode></episodedetails>",
    )
    body = fixture("sonarr/download_episode_file.json")
    body["series"].update(title=show, path=f"{ARR_TV}/{show}")
    body["episodes"][0].update(seasonNumber=1, episodeNumber=3, title="The Third One")
    body["episodeFile"].update(
        relativePath=f"Season 01/{stem}.mkv", path=f"{ARR_TV}/{show}/Season 01/{stem}.mkv"
    )
    detail = server.finished(server.webhook("sonarr", body))
    (result,) = told(detail)
    assert (result["player"], result["outcome"]) == (PLAYER, "ok"), result
    file = str(kodi.tvshows / show / "Season 01" / f"{stem}.mkv")
    found = [e for e in kodi.episodes_in_library() if e["file"] == file]
    assert [(e["title"], e["season"], e["episode"], e["showtitle"]) for e in found] == [
        ("The Third One", 1, 3, show)
    ]


def test_a_movie_delete_removes_the_movie_from_kodi(
    server: Server, site: Site, kodi: KodiServer
) -> None:
    title = f"Gone Soon {uuid.uuid4().hex[:6]}"
    folder, video = new_movie(site, title)
    added = server.finished(server.webhook("radarr", radarr_import(folder, video)))
    assert [r["outcome"] for r in told(added)] == ["ok"]
    assert in_kodi(kodi, kodi.movies / folder / video) == [title]
    assert str(site.movies / folder) in library_folders(server)
    # Radarr deletes the movie with its files, then sends MovieDelete.
    shutil.rmtree(site.movies / folder)
    body = fixture("radarr/movie_delete.json")
    body["movie"].update(title=title, folderPath=f"{ARR_MOVIES}/{folder}")
    detail = server.finished(server.webhook("radarr", body))
    assert detail["job"]["result"]["action"] == "remove"
    (result,) = told(detail)
    assert (result["player"], result["outcome"]) == (PLAYER, "ok"), result
    assert in_kodi(kodi, kodi.movies / folder / video) == []
    # relayarr's library forgot it too.
    assert str(site.movies / folder) not in library_folders(server)


def library_folders(server: Server) -> set[str]:
    listed = server.client.get("/api/v1/library/movies", params={"limit": 500}).json()
    return {item["folder"] for item in listed["items"]}


def kodi_idle(kodi: KodiServer, seconds: float = 2.0) -> None:
    """Return once Kodi has not been scanning for ``seconds``."""
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        if kodi.rpc("XBMC.GetInfoBooleans", {"booleans": ["Library.IsScanning"]}) != {
            "Library.IsScanning": False
        }:
            quiet_since = time.monotonic()
        time.sleep(0.1)


def test_an_upgrade_replaces_the_file_in_kodi(server: Server, site: Site, kodi: KodiServer) -> None:
    title = f"Upgraded {uuid.uuid4().hex[:6]}"
    folder, old = new_movie(site, title)
    first = server.finished(server.webhook("radarr", radarr_import(folder, old)))
    assert [r["outcome"] for r in told(first)] == ["ok"]
    # Kodi records a folder's state a moment after it lists the folder's item; a folder
    # changed within that moment looks unchanged to every later scan. An upgrade comes
    # hours after the import in life: here, let Kodi finish with the folder first.
    kodi_idle(kodi)
    # Radarr: the better release lands beside the old one, the old one is deleted, then
    # Download with isUpgrade and deletedFiles.
    new = f"{folder}.REMASTERED.2160p.mkv"
    site.file(site.movies / folder / new, b"\1" * 128)
    (site.movies / folder / old).unlink()
    body = radarr_import(folder, new)
    body["isUpgrade"] = True
    body["deletedFiles"] = [
        {"id": 1, "relativePath": old, "path": f"{ARR_MOVIES}/{folder}/{old}", "size": 64}
    ]
    detail = server.finished(server.webhook("radarr", body))
    results = told(detail)
    assert [r["outcome"] for r in results] == ["ok", "ok"], results
    assert in_kodi(kodi, kodi.movies / folder / new) == [title]
    assert in_kodi(kodi, kodi.movies / folder / old) == []


def test_an_episode_file_delete_removes_the_episode_from_kodi(
    server: Server, site: Site, kodi: KodiServer
) -> None:
    show = f"Show {uuid.uuid4().hex[:6]}"
    season = site.tv / show / "Season 01"
    site.file(site.tv / show / "tvshow.nfo", f"<tvshow><title>{show}</title></tvshow>")
    for n in (1, 2):  # the local scraper reads each episode's own NFO
        site.file(season / f"{show} - S01E0{n}.mkv")
        site.file(
            season / f"{show} - S01E0{n}.nfo",
            f"<episodedetails><title>Part {n}</title><season>1</season>"
            f"<episode>{n}</episode></episodedetails>",
        )

    def episode_body(n: int, fixture_name: str) -> dict[str, Any]:
        body = fixture(fixture_name)
        body["series"].update(title=show, path=f"{ARR_TV}/{show}")
        body["episodes"][0].update(seasonNumber=1, episodeNumber=n)
        name = f"Season 01/{show} - S01E0{n}.mkv"
        body["episodeFile"].update(relativePath=name, path=f"{ARR_TV}/{show}/{name}")
        return body

    added = server.finished(
        server.webhook("sonarr", episode_body(1, "sonarr/download_episode_file.json"))
    )
    assert [r["outcome"] for r in told(added)] == ["ok"]

    def files() -> set[str]:
        return {str(e["file"]) for e in kodi.episodes_in_library() if e["showtitle"] == show}

    assert files() == {
        str(kodi.tvshows / show / "Season 01" / f"{show} - S01E0{n}.mkv") for n in (1, 2)
    }
    (season / f"{show} - S01E01.mkv").unlink()
    detail = server.finished(
        server.webhook("sonarr", episode_body(1, "sonarr/episode_file_delete.json"))
    )
    assert detail["job"]["result"]["action"] == "remove"
    assert [r["outcome"] for r in told(detail)] == ["ok"]
    assert files() == {str(kodi.tvshows / show / "Season 01" / f"{show} - S01E02.mkv")}
