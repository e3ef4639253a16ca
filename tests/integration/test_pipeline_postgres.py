"""The pipeline's chain with the library database on PostgreSQL (``library.database_url``
pointing at the tests' throwaway server), the queue on SQLite: imports, bursts,
upgrades, renames, deletes and reconciliation, each checked in PostgreSQL's own tables."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pipeline_world import ARR_MOVIES, ARRIVAL_NEW, ARRIVAL_OLD, World, fixture, touch, world

from relayarr.jobqueue import Job, JobStatus
from relayarr.pipeline import NOTIFY_PLAYERS, SCAN_MOVIE, SCAN_SERIES
from relayarr.pipeline.manual import reconcile_all
from servers import PostgresServer, postgres_server

pytestmark = pytest.mark.slow

S02E03 = "Severance - S02E03 - Who Is Alive [WEBDL-2160p].mkv"


@pytest.fixture
def database() -> Iterator[tuple[PostgresServer, str]]:
    server = postgres_server()
    name = server.create_database()
    try:
        yield server, name
    finally:
        server.drop_database(name)


@pytest.fixture
async def w(tmp_path: Path, database: tuple[PostgresServer, str]) -> AsyncIterator[World]:
    server, name = database

    def on_postgres(config: dict[str, Any]) -> None:
        config["library"]["database_url"] = server.url(name)

    async with world(tmp_path, tweak=on_postgres) as running:
        await running.queue.start()
        yield running


async def rows(database: tuple[PostgresServer, str], sql: str) -> list[tuple[Any, ...]]:
    """Read PostgreSQL directly: proof that the chain wrote there."""
    server, name = database
    connection = await server.admin(name)
    try:
        return [tuple(record) for record in await connection.fetch(sql)]
    finally:
        await connection.close()


async def run(w: World, source: str, body: object) -> Job:
    job = await w.webhook(source, body)
    await w.settle()
    return await w.queue.get_job(job.id)


def result(job: Job) -> dict[str, Any]:
    assert isinstance(job.result, dict), job
    return job.result


def arrival_import(video: str = ARRIVAL_NEW) -> dict[str, Any]:
    body = fixture("radarr/download.json")
    body["isUpgrade"] = video == ARRIVAL_NEW
    body["deletedFiles"] = [] if video == ARRIVAL_OLD else body["deletedFiles"]
    body["movieFile"].update(relativePath=video, path=f"{ARR_MOVIES}/Arrival (2016)/{video}")
    return body


async def test_an_import_is_recorded_in_postgresql_and_told(
    w: World, database: tuple[PostgresServer, str]
) -> None:
    folder = w.arrival(ARRIVAL_NEW, "movie.nfo", "poster.jpg")
    done = await run(w, "radarr", arrival_import())
    assert done.status is JobStatus.COMPLETED, done.last_error
    (scan,) = await w.children(done)
    (notify,) = await w.children(scan)
    assert (scan.type, notify.type) == (SCAN_MOVIE, NOTIFY_PLAYERS)
    assert result(notify)["would_tell"]["action"] == "added"
    assert await rows(database, "SELECT title, year, tmdb_id, folder FROM library_movies") == [
        ("Arrival", 2016, 329865, str(folder))
    ]
    links = await rows(database, "SELECT job_id FROM library_job_links ORDER BY job_id")
    assert links == [(done.id,), (scan.id,)]
    detail = await w.store.get_movie((await w.store.list_movies()).items[0].id)
    assert {Path(a.path).name for a in detail.assets} >= {"movie.nfo", "poster.jpg"}


async def test_a_season_pack_burst_coalesces_with_postgresql(
    tmp_path: Path, database: tuple[PostgresServer, str]
) -> None:
    server, name = database

    def on_postgres(config: dict[str, Any]) -> None:
        config["library"]["database_url"] = server.url(name)

    async with world(tmp_path, settle_seconds=1.0, tweak=on_postgres) as w:
        names = [f"Severance - S02E{n:02d} - Part {n} [WEBDL-1080p].mkv" for n in range(1, 31)]
        w.severance(*names)
        await w.queue.start()
        for n, episode in enumerate(names, start=1):
            body = fixture("sonarr/download_episode_file.json")
            body["episodes"][0].update(episodeNumber=n, seasonNumber=2)
            body["episodeFile"].update(
                relativePath=f"Season 02/{episode}",
                path=f"/data/media/tv/Severance/Season 02/{episode}",
            )
            await w.webhook("sonarr", body)
        await w.settle()
        assert len(await w.jobs(SCAN_SERIES)) == 1
        assert len(await w.jobs(NOTIFY_PLAYERS)) == 1
        assert await rows(database, "SELECT count(*) FROM library_episodes") == [(30,)]


async def test_an_upgrade_a_rename_and_a_delete_keep_postgresql_in_step(
    w: World, database: tuple[PostgresServer, str]
) -> None:
    folder = w.arrival(ARRIVAL_OLD)
    await run(w, "radarr", arrival_import(ARRIVAL_OLD))
    (folder / ARRIVAL_OLD).unlink()
    touch(folder / ARRIVAL_NEW)
    upgrade = await run(w, "radarr", arrival_import(ARRIVAL_NEW))
    (scan,) = await w.children(upgrade)
    assert [Path(p).name for p in result(scan)["removed"]] == [ARRIVAL_OLD]
    files = "SELECT path FROM library_media_files ORDER BY path"
    assert await rows(database, files) == [(str(folder / ARRIVAL_NEW),)]
    # A series renamed by Sonarr.
    w.severance("severance.s02e03.mkv")
    first = fixture("sonarr/download_episode_file.json")
    first["episodeFile"].update(
        relativePath="Season 02/severance.s02e03.mkv",
        path="/data/media/tv/Severance/Season 02/severance.s02e03.mkv",
    )
    await run(w, "sonarr", first)
    season = w.tv / "Severance" / "Season 02"
    (season / "severance.s02e03.mkv").rename(season / S02E03)
    await run(w, "sonarr", fixture("sonarr/rename.json"))
    episodes = await rows(
        database,
        "SELECT f.path FROM library_episodes e JOIN library_media_files f ON f.id = e.file_id",
    )
    assert [Path(path).name for (path,) in episodes] == [S02E03]
    # Radarr deletes the movie with its files.
    shutil.rmtree(folder)
    deleted = await run(w, "radarr", fixture("radarr/movie_delete.json"))
    assert result(deleted)["action"] == "remove"
    assert await rows(database, "SELECT folder FROM library_movies") == []
    assert await rows(database, "SELECT count(*) FROM library_series") == [(1,)]


async def test_reconciliation_compares_with_signatures_in_postgresql(w: World) -> None:
    kept = w.arrival(ARRIVAL_NEW)
    changed = touch(w.movies / "Heat (1995)" / "heat.mkv").parent
    gone = touch(w.movies / "Ronin (1998)" / "ronin.mkv").parent
    assert w.services.library is not None
    roots = w.services.library.roots
    baseline = await reconcile_all(w.queue, roots)
    await w.settle()
    first = result(await w.queue.get_job(baseline.id))["roots"][0]
    assert (first["first_pass"], first["new_count"]) == (True, 3)
    # relayarr is down: one folder changes, one goes, one arrives.
    touch(changed / "heat.en.srt")
    shutil.rmtree(gone)
    arrived = touch(w.movies / "Thief (1981)" / "thief.mkv").parent
    again = await reconcile_all(w.queue, roots)
    await w.settle()
    found = result(await w.queue.get_job(again.id))["roots"][0]
    assert (found["first_pass"], found["new"], found["changed"], found["removed"]) == (
        False,
        [arrived.name],
        [changed.name],
        [gone.name],
    )
    folders = {item.folder for item in (await w.store.list_movies()).items}
    assert folders == {str(kept), str(changed), str(arrived)}
    told = [result(job)["would_tell"] for job in await w.jobs(NOTIFY_PLAYERS)]
    assert sorted((t["action"], Path(t["folder"]).name) for t in told) == [
        ("added", arrived.name),
        ("changed", changed.name),
        ("removed", gone.name),
    ]


async def test_the_library_is_not_in_sqlite(w: World) -> None:
    assert w.settings.library_database_url.startswith("postgresql://")
    w.arrival(ARRIVAL_NEW)
    await run(w, "radarr", arrival_import())
    assert not (Path(w.settings.data_dir) / "library.db").exists()
