"""A Radarr import through the whole chain into a real Kodi 20 (headless, tests/kodi.py):
webhook -> scan -> enrich -> publish -> notify-players, in-process on a real SQLite queue
and library database, the Kodi player configured as a user would. Kodi then shows the
title, year, plot and poster relayarr published: enriched by the fake TMDB, or, with no
provider at all, from what the webhook carried.

The library root is the folder of Kodi's movies source, which Kodi scans with "movies are
in separate folders" on (``useFolderNames``): it reads ``<video stem>.nfo`` (the default
``nfo = "video"``) and ``<video stem>-poster.jpg``. Each test's movie folder is named
``dl.<random>``, never its title, so the title Kodi shows can only come from the NFO.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from metadata.fakes import FANART_KEY, TMDB_KEY, FakeState, LoopbackServer
from pipeline_world import ARR_MOVIES, ARRIVAL_NEW, fixture, world

from kodi import KodiServer, kodi_server
from relayarr.jobqueue import Job, JobStatus
from relayarr.pipeline import NOTIFY_PLAYERS

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent.parent / "fixtures" / "metadata"
TMDB_PLOT = json.loads((FIXTURES / "tmdb_movie_329865.json").read_text(encoding="utf-8"))[
    "overview"
]
WEBHOOK_PLOT = "A linguist is recruited by the military to communicate with alien visitors."
STEM = Path(ARRIVAL_NEW).stem


@pytest.fixture(scope="module")
def providers() -> Iterator[LoopbackServer]:
    with LoopbackServer(FakeState()) as running:
        yield running


@pytest.fixture
def fake(providers: LoopbackServer) -> FakeState:
    state = providers.state
    state.__init__()  # type: ignore[misc]
    state.base = providers.url
    return state


@pytest.fixture
def kodi() -> KodiServer:
    return kodi_server()


def configured(kodi: KodiServer, metadata: dict[str, object]) -> Callable[[dict[str, Any]], None]:
    """The library root is Kodi's movies folder; Kodi is the one player."""

    def tweak(config: dict[str, Any]) -> None:
        config["library"]["roots"][0]["path"] = str(kodi.movies)
        config["mappings"][0]["to"] = str(kodi.movies)
        config["players"] = [
            {
                "name": "kodi",
                "type": "kodi",
                "url": kodi.url,
                "username": kodi.username,
                "password": kodi.password,
                "verify_timeout": 90,
            }
        ]
        config["metadata"] = {"timeout": 5.0, "retries": 0, **metadata}

    return tweak


def a_download(kodi: KodiServer, fake: FakeState) -> tuple[Path, dict[str, Any]]:
    """A new movie folder in Kodi's source and Radarr's Download for it."""
    name = f"dl.{uuid.uuid4().hex[:8]}"
    folder = kodi.movies / name
    folder.mkdir()
    (folder / ARRIVAL_NEW).write_bytes(b"\0" * 2048)
    body = fixture("radarr/download.json")
    body["movie"]["folderPath"] = f"{ARR_MOVIES}/{name}"
    body["movieFile"]["path"] = f"{ARR_MOVIES}/{name}/{ARRIVAL_NEW}"
    body["deletedFiles"] = []
    body["isUpgrade"] = False
    for image in body["movie"]["images"]:
        image["remoteUrl"] = f"{fake.base}/img/webhook/{image['coverType']}.jpg"
    return folder, body


def kodi_movie(kodi: KodiServer, video: Path) -> dict[str, Any]:
    """Kodi's details of the movie whose file is ``video``."""
    found = [m for m in kodi.movies_in_library() if m["file"] == str(video)]
    assert len(found) == 1, kodi.movies_in_library()
    details = kodi.rpc(
        "VideoLibrary.GetMovieDetails",
        {"movieid": found[0]["movieid"], "properties": ["title", "year", "plot", "art"]},
    )
    assert isinstance(details, dict)
    movie: dict[str, Any] = details["moviedetails"]
    return movie


async def through_the_chain(
    tmp_path: Path, kodi: KodiServer, body: dict[str, Any], metadata: dict[str, object]
) -> list[Job]:
    async with world(tmp_path, tweak=configured(kodi, metadata)) as w:
        await w.queue.start()
        webhook = await w.webhook("radarr", body)
        await w.settle(within=180)
        return [j for j in await w.jobs() if j.id != webhook.id]


def assert_told(jobs: list[Job]) -> None:
    notify = [j for j in jobs if j.type == NOTIFY_PLAYERS]
    assert [j.status for j in notify] == [JobStatus.COMPLETED], [j.last_error for j in notify]
    assert isinstance(notify[0].result, dict)
    assert "verified" in json.dumps(notify[0].result)


def assert_poster(movie: dict[str, Any], folder: Path) -> None:
    poster = unquote(str(movie["art"].get("poster", "")))
    assert str(folder / f"{STEM}-poster.jpg") in poster, movie["art"]


async def test_kodi_shows_what_relayarr_published_from_tmdb(
    tmp_path: Path, kodi: KodiServer, fake: FakeState
) -> None:
    folder, body = a_download(kodi, fake)
    body["movie"]["title"] = "Arrival (as Radarr calls it)"
    providers: dict[str, object] = {
        "tmdb_api_key": TMDB_KEY,
        "fanart_api_key": FANART_KEY,
        "tmdb_url": f"{fake.base}/tmdb/3",
        "tmdb_image_url": f"{fake.base}/img/tmdb/",
        "fanart_url": f"{fake.base}/fanart/v3",
    }
    jobs = await through_the_chain(tmp_path, kodi, body, providers)
    assert_told(jobs)
    movie = kodi_movie(kodi, folder / ARRIVAL_NEW)
    assert (movie["title"], movie["year"], movie["plot"]) == ("Arrival", 2016, TMDB_PLOT)
    assert_poster(movie, folder)
    assert fake.calls("/img/tmdb/")  # the poster came from TMDB's image server


async def test_kodi_shows_the_webhooks_metadata_without_any_provider(
    tmp_path: Path, kodi: KodiServer, fake: FakeState
) -> None:
    folder, body = a_download(kodi, fake)
    body["movie"]["title"] = "Arrival (offline)"
    jobs = await through_the_chain(tmp_path, kodi, body, {})
    assert_told(jobs)
    movie = kodi_movie(kodi, folder / ARRIVAL_NEW)
    assert (movie["title"], movie["year"], movie["plot"]) == (
        "Arrival (offline)",
        2016,
        WEBHOOK_PLOT,
    )
    assert_poster(movie, folder)
    assert not fake.calls("/tmdb")
    assert [r.path for r in fake.calls("/img/webhook/poster.jpg")] == ["/img/webhook/poster.jpg"]
