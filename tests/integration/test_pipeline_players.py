"""The chain's last step against fake Jellyfin and Plex servers over loopback HTTP: each
player hears of the folder in its own view of the library, and a player that failed is
asked again in a later round while the ones already told are left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pipeline_world import ARRIVAL_NEW, fixture, world

from fakeplayers.mediabrowser import TOKEN as MB_TOKEN
from fakeplayers.mediabrowser import FakeMediaBrowser, Library
from fakeplayers.plex import TOKEN as PLEX_TOKEN
from fakeplayers.plex import FakePlex, Section
from relayarr.jobqueue import Job, JobStatus
from relayarr.pipeline import NOTIFY_PLAYERS


@pytest.fixture
async def jellyfin() -> AsyncIterator[FakeMediaBrowser]:
    server = FakeMediaBrowser("jellyfin")
    server.state.libraries = [Library("Movies", ["/media/movies"])]
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def plex() -> AsyncIterator[FakePlex]:
    server = FakePlex()
    server.state.sections = [Section("1", "Movies", "movie", ["/plexdata/movies"])]
    await server.start()
    yield server
    await server.stop()


def with_players(jellyfin: FakeMediaBrowser, plex: FakePlex, movies: Path) -> Any:
    def tweak(config: dict[str, Any]) -> None:
        config["players"] = [
            {
                "name": "jf",
                "type": "jellyfin",
                "url": jellyfin.url,
                "token": MB_TOKEN,
                "mappings": [{"from": str(movies), "to": "/media/movies"}],
            },
            {
                "name": "plex",
                "type": "plex",
                "url": plex.url,
                "token": PLEX_TOKEN,
                "mappings": [{"from": str(movies), "to": "/plexdata/movies"}],
            },
        ]
        config["groups"] = {"plex": {"retry_seconds": 0.3}, "jf": {"retry_seconds": 0.3}}

    return tweak


def result(job: Job) -> dict[str, Any]:
    assert isinstance(job.result, dict), job
    return job.result


async def test_each_player_hears_of_the_movie_in_its_own_view_and_a_failure_is_retried_alone(
    tmp_path: Path, jellyfin: FakeMediaBrowser, plex: FakePlex
) -> None:
    movies = tmp_path / "srv" / "movies"
    async with world(tmp_path, tweak=with_players(jellyfin, plex, movies)) as w:
        folder = w.arrival(ARRIVAL_NEW)
        body = fixture("radarr/download.json")
        body["deletedFiles"] = []
        plex.fail_next(500)  # Plex is having a bad moment
        await w.queue.start()
        await w.webhook("radarr", body)
        await w.settle()

        rounds = await w.jobs(NOTIFY_PLAYERS)
        assert [job.status for job in rounds] == [JobStatus.COMPLETED, JobStatus.COMPLETED]
        first, second = (result(job) for job in rounds)
        assert {r["player"]: r["outcome"] for r in first["results"]} == {
            "jf": "ok",
            "plex": "failed",
        }
        assert first["done"] == ["jf"]
        assert first["next_round"]["for"] == ["plex"]
        assert [r["player"] for r in second["results"]] == ["plex"]  # jf is not told twice
        assert second["done"] == ["jf", "plex"]
        assert rounds[1].parent_id == rounds[0].id

        # Jellyfin got the file in its own path form, once.
        updates = [r.json() for r in jellyfin.requests if r.path == "/Library/Media/Updated"]
        assert updates == [
            {
                "Updates": [
                    {"Path": f"/media/movies/{folder.name}/{ARRIVAL_NEW}", "UpdateType": "Created"}
                ]
            }
        ]
        refreshes = [r for r in plex.requests if r.path == "/library/sections/1/refresh"]
        assert [r.query["path"] for r in refreshes] == [f"/plexdata/movies/{folder.name}"]
        assert MB_TOKEN not in str(first)
        assert PLEX_TOKEN not in str(second)


async def test_a_player_that_cannot_see_the_folder_fails_the_job_naming_it(
    tmp_path: Path, jellyfin: FakeMediaBrowser, plex: FakePlex
) -> None:
    movies = tmp_path / "srv" / "movies"
    plex.state.sections = [Section("1", "Movies", "movie", ["/somewhere/else"])]
    async with world(tmp_path, tweak=with_players(jellyfin, plex, movies)) as w:
        w.arrival(ARRIVAL_NEW)
        body = fixture("radarr/download.json")
        body["deletedFiles"] = []
        await w.queue.start()
        await w.webhook("radarr", body)
        await w.settle()
        (notify,) = await w.jobs(NOTIFY_PLAYERS)
        assert notify.status is JobStatus.FAILED
        error = notify.last_error or ""
        assert "jf: ok" in error
        assert "plex: failed" in error
        assert "/plexdata/movies/Arrival (2016)" in error
