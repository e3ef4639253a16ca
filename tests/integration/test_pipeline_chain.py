"""Every *arr event type through the chain, on real folders, a real SQLite queue and a real
library database: webhook -> scan -> notify-players, deletes, renames, upgrades, bursts,
and every way a path can be refused."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from pipeline_world import (
    ARR_MOVIES,
    ARRIVAL_NEW,
    ARRIVAL_OLD,
    World,
    fixture,
    touch,
    world,
)

from relayarr.jobqueue import Job, JobStatus
from relayarr.library.roots import RootKind
from relayarr.pipeline import NOTIFY_PLAYERS, SCAN_MOVIE, SCAN_SERIES
from relayarr.pipeline.jobs import ScanReason, ScanRequest
from relayarr.pipeline.scan import add_scan

S02E03 = "Severance - S02E03 - Who Is Alive [WEBDL-2160p].mkv"
S02E04 = "Severance - S02E04 - Woe's Hollow [WEBDL-2160p].mkv"


def result(job: Job) -> dict[str, Any]:
    assert isinstance(job.result, dict), job
    return job.result


async def run(w: World, source: str, body: object, instance: str | None = None) -> Job:
    if not w.queue.running:
        await w.queue.start()
    job = await w.webhook(source, body, instance)
    await w.settle()
    return await w.queue.get_job(job.id)


async def test_a_radarr_import_is_mapped_scanned_recorded_and_told(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        folder = w.arrival(ARRIVAL_NEW, "movie.nfo", "poster.jpg", "Arrival.en.forced.srt")
        body = fixture("radarr/download.json")
        body["deletedFiles"] = []
        done = await run(w, "radarr", body)
        assert done.status is JobStatus.COMPLETED, done.last_error
        routed = result(done)
        assert (routed["action"], routed["folder"]) == ("scan", str(folder))
        assert routed["mapping"] == f"radarr: {ARR_MOVIES} -> {w.movies}"
        (scan,) = await w.children(done)
        assert (scan.type, scan.status) == (SCAN_MOVIE, JobStatus.COMPLETED)
        scanned = result(scan)
        assert scanned["created"] is True
        assert scanned["video"] == ARRIVAL_NEW
        (notify,) = await w.children(scan)
        assert notify.type == NOTIFY_PLAYERS
        change = result(notify)["would_tell"]
        assert change["action"] == "added"
        assert change["file"] == str(folder / ARRIVAL_NEW)
        # The library database holds the movie, its files and assets, and the chain.
        page = await w.store.list_movies()
        (movie,) = page.items
        assert (movie.title, movie.year, movie.tmdb_id) == ("Arrival", 2016, 329865)
        detail = await w.store.get_movie(movie.id)
        assert {Path(f.path).name for f in detail.files} >= {ARRIVAL_NEW, "Arrival.en.forced.srt"}
        assert {Path(a.path).name for a in detail.assets} >= {"movie.nfo", "poster.jpg"}
        assert {link.job_id for link in detail.jobs} == {done.id, scan.id}


async def test_a_season_pack_burst_makes_one_scan_and_one_notify(tmp_path: Path) -> None:
    async with world(tmp_path, settle_seconds=1.0) as w:
        names = [f"Severance - S02E{n:02d} - Part {n} [WEBDL-1080p].mkv" for n in range(1, 51)]
        w.severance(*names)
        await w.queue.start()
        webhooks = []
        for n, name in enumerate(names, start=1):
            body = fixture("sonarr/download_episode_file.json")
            body["episodes"][0].update(episodeNumber=n, seasonNumber=2)
            body["episodeFile"].update(
                relativePath=f"Season 02/{name}", path=f"/data/media/tv/Severance/Season 02/{name}"
            )
            webhooks.append(await w.webhook("sonarr", body))
        await w.settle()
        scans = await w.jobs(SCAN_SERIES)
        notifies = await w.jobs(NOTIFY_PLAYERS)
        assert len(scans) == 1
        assert len(notifies) == 1
        assert {result(await w.queue.get_job(j.id))["scan_job"] for j in webhooks} == {scans[0].id}
        change = result(notifies[0])["would_tell"]
        assert (change["action"], change["folder"]) == ("added", str(w.tv / "Severance"))
        series = (await w.store.list_series()).items
        assert len(series) == 1
        detail = await w.store.get_series(series[0].id)
        assert sum(len(season.episodes) for season in detail.seasons) == 50


async def test_sonarr_import_complete_scans_the_series_once(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.severance(S02E03, S02E04)
        done = await run(w, "sonarr", fixture("sonarr/download_import_complete.json"))
        assert result(done)["action"] == "scan"
        (scan,) = await w.jobs(SCAN_SERIES)
        assert sorted(Path(p).name for p in result(scan)["added"]) == sorted(
            [S02E03, S02E04, "tvshow.nfo"]
        ) or {S02E03, S02E04} <= {Path(p).name for p in result(scan)["added"]}


async def test_an_upgrade_replaces_the_file_and_tells_what_went(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        folder = w.arrival(ARRIVAL_OLD)
        first = fixture("radarr/download.json")
        first["isUpgrade"] = False
        first["deletedFiles"] = []
        first["movieFile"].update(
            relativePath=ARRIVAL_OLD, path=f"{ARR_MOVIES}/Arrival (2016)/{ARRIVAL_OLD}"
        )
        await run(w, "radarr", first)
        # Radarr: MovieFileDelete (reason upgrade), the new file in place, then Download.
        (folder / ARRIVAL_OLD).unlink()
        touch(folder / ARRIVAL_NEW)
        deleted = await run(w, "radarr", fixture("radarr/movie_file_delete.json"))
        assert result(deleted)["action"] == "recorded"  # the Download that follows acts
        upgrade = await run(w, "radarr", fixture("radarr/download.json"))
        (scan,) = await w.children(upgrade)
        scanned = result(scan)
        assert scanned["created"] is False
        assert [Path(p).name for p in scanned["removed"]] == [ARRIVAL_OLD]
        assert [Path(p).name for p in scanned["added"]] == [ARRIVAL_NEW]
        told = [result(notify)["would_tell"] for notify in await w.children(scan)]
        assert [(c["action"], Path(c["file"]).name) for c in told] == [
            ("changed", ARRIVAL_NEW),
            ("removed", ARRIVAL_OLD),
        ]


async def test_a_rename_updates_the_library(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.severance("severance.s02e03.mkv")
        first = fixture("sonarr/download_episode_file.json")
        first["episodeFile"].update(
            relativePath="Season 02/severance.s02e03.mkv",
            path="/data/media/tv/Severance/Season 02/severance.s02e03.mkv",
        )
        await run(w, "sonarr", first)
        season = w.tv / "Severance" / "Season 02"
        (season / "severance.s02e03.mkv").rename(season / S02E03)
        renamed = await run(w, "sonarr", fixture("sonarr/rename.json"))
        scan = (await w.children(renamed))[0]
        assert [Path(p).name for p in result(scan)["removed"]] == ["severance.s02e03.mkv"]
        assert [Path(p).name for p in result(scan)["added"]] == [S02E03]
        series = (await w.store.list_series()).items[0]
        detail = await w.store.get_series(series.id)
        assert [Path(e.file_path).name for s in detail.seasons for e in s.episodes] == [S02E03]


async def test_a_manual_file_delete_removes_the_file_and_tells_the_players(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        folder = w.arrival(ARRIVAL_OLD)
        first = fixture("radarr/download.json")
        first["deletedFiles"] = []
        first["movieFile"].update(
            relativePath=ARRIVAL_OLD, path=f"{ARR_MOVIES}/Arrival (2016)/{ARRIVAL_OLD}"
        )
        await run(w, "radarr", first)
        (folder / ARRIVAL_OLD).unlink()
        body = fixture("radarr/movie_file_delete.json")
        body["deleteReason"] = "manual"
        done = await run(w, "radarr", body)
        routed = result(done)
        assert routed["action"] == "remove"
        (notify,) = await w.children(done)
        change = result(notify)["would_tell"]
        assert (change["action"], change["file"]) == ("removed", str(folder / ARRIVAL_OLD))
        movie = (await w.store.list_movies()).items[0]
        detail = await w.store.get_movie(movie.id)
        assert ARRIVAL_OLD not in {Path(f.path).name for f in detail.files}


@pytest.mark.parametrize(
    ("fixture_name", "kind"),
    [("radarr/movie_delete.json", "movie"), ("sonarr/series_delete.json", "series")],
)
async def test_a_whole_item_delete_forgets_it(tmp_path: Path, fixture_name: str, kind: str) -> None:
    async with world(tmp_path) as w:
        if kind == "movie":
            folder = w.arrival(ARRIVAL_NEW)
            body = fixture("radarr/download.json")
            body["deletedFiles"] = []
            await run(w, "radarr", body)
        else:
            folder = w.severance(S02E03)
            await run(w, "sonarr", fixture("sonarr/download_episode_file.json"))
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        folder.rmdir()
        done = await run(w, fixture_name.split("/")[0], fixture(fixture_name))
        assert result(done)["action"] == "remove"
        (notify,) = await w.children(done)
        change = result(notify)["would_tell"]
        assert (change["action"], change["folder"]) == ("removed", str(folder))
        listing = w.store.list_movies if kind == "movie" else w.store.list_series
        assert (await listing()).items == ()


async def test_an_item_delete_that_keeps_the_files_tells_nobody(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.arrival(ARRIVAL_NEW)
        body = fixture("radarr/movie_delete.json")
        body["deletedFiles"] = False
        done = await run(w, "radarr", body)
        assert result(done)["action"] == "recorded"
        assert await w.children(done) == []


@pytest.mark.parametrize(
    "fixture_name",
    [
        "radarr/grab.json",
        "radarr/movie_added.json",
        "radarr/health.json",
        "radarr/health_restored.json",
        "radarr/application_update.json",
        "radarr/manual_interaction_required.json",
        "sonarr/grab.json",
        "sonarr/series_add.json",
        "sonarr/health.json",
        "sonarr/health_restored.json",
        "sonarr/application_update.json",
        "sonarr/manual_interaction_required.json",
    ],
)
async def test_informational_events_are_recorded_with_no_follow_up(
    tmp_path: Path, fixture_name: str
) -> None:
    async with world(tmp_path) as w:
        done = await run(w, fixture_name.split("/")[0], fixture(fixture_name))
        assert done.status is JobStatus.COMPLETED
        assert result(done)["action"] == "recorded"
        assert await w.children(done) == []


async def test_an_unknown_event_is_recorded(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        done = await run(w, "radarr", {"eventType": "MovieTeleported", "movie": {"id": 1}})
        assert (done.status, result(done)["action"], result(done)["known"]) == (
            JobStatus.COMPLETED,
            "recorded",
            False,
        )


async def test_a_path_no_rule_maps_fails_naming_the_path_and_rules(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        body = fixture("radarr/download.json")
        body["movie"]["folderPath"] = "/elsewhere/Arrival (2016)"
        body["movieFile"]["path"] = "/elsewhere/Arrival (2016)/x.mkv"
        body["deletedFiles"] = []
        done = await run(w, "radarr", body)
        assert done.status is JobStatus.FAILED
        assert done.attempts == 1  # permanent: retrying cannot help
        error = done.last_error or ""
        assert "/elsewhere/Arrival (2016)" in error
        assert f"radarr: {ARR_MOVIES} -> {w.movies}" in error
        assert await w.children(done) == []


async def test_a_mapped_path_outside_every_root_fails(tmp_path: Path) -> None:
    def escape(config: dict[str, Any]) -> None:
        config["mappings"][0]["to"] = str(tmp_path / "not-a-root")

    async with world(tmp_path, tweak=escape) as w:
        body = fixture("radarr/download.json")
        done = await run(w, "radarr", body)
        assert done.status is JobStatus.FAILED
        assert "outside every library root" in (done.last_error or "")


async def test_a_symlink_leading_out_of_a_root_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        outside = tmp_path / "outside" / "Arrival (2016)"
        touch(outside / ARRIVAL_NEW)
        os.symlink(outside, w.movies / "Arrival (2016)")
        body = fixture("radarr/download.json")
        body["deletedFiles"] = []
        done = await run(w, "radarr", body)
        assert done.status is JobStatus.FAILED
        assert "outside every library root" in (done.last_error or "")
        assert (await w.store.list_movies()).items == ()


async def test_a_file_that_does_not_exist_fails_naming_it(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.arrival("something else.mkv")
        body = fixture("radarr/download.json")
        body["deletedFiles"] = []
        done = await run(w, "radarr", body)
        assert done.status is JobStatus.FAILED
        assert f"{w.movies}/Arrival (2016)/{ARRIVAL_NEW} does not exist" in (done.last_error or "")


async def test_a_root_whose_anchor_is_missing_waits_without_failing(tmp_path: Path) -> None:
    async with world(tmp_path, anchors=(".mounted",), mount_retry_seconds=0.5) as w:
        w.arrival(ARRIVAL_NEW)
        body = fixture("radarr/download.json")
        body["deletedFiles"] = []
        await w.queue.start()
        job = await w.webhook("radarr", body)
        async with asyncio.timeout(10):
            while (waiting := await w.queue.get_job(job.id)).last_error is None:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert waiting.status is JobStatus.PENDING
        assert waiting.attempts == 0
        assert f"library root {w.movies} is unavailable" in (waiting.last_error or "")
        assert await w.jobs(SCAN_MOVIE) == []
        # The mount comes back: the job runs at its next look.
        touch(w.movies / ".mounted", 0)
        await w.settle()
        done = await w.queue.get_job(job.id)
        assert done.status is JobStatus.COMPLETED
        assert len(await w.jobs(SCAN_MOVIE)) == 1


async def test_an_event_during_a_running_scan_queues_one_more_scan_behind_it(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, settle_seconds=0.0) as w:
        folder = w.arrival(ARRIVAL_NEW)
        request = ScanRequest(str(folder), str(w.movies), ScanReason.MANUAL)
        first = await add_scan(w.queue, request, kind=RootKind.MOVIES, settle=0.0)
        # A worker has claimed it and may already have read the folder.
        (running,) = await w.storage.claim("elsewhere", [SCAN_MOVIE], 1, 30.0)
        assert running.id == first.id
        behind = await add_scan(w.queue, request, kind=RootKind.MOVIES, settle=0.0)
        assert behind.id != first.id
        assert behind.status is JobStatus.PENDING
        # More events while that one waits coalesce into it.
        again = await add_scan(w.queue, request, kind=RootKind.MOVIES, settle=0.0)
        assert again.id == behind.id
