"""The library store on SQLite and on a real PostgreSQL (tests/servers.py), fed by real
scans of directory trees made here: recording, upgrades, renames, deletions, job links,
paging and search, scan runs, reconciliation's reads, and bad databases."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from relayarr.errors import InvalidCursor, LibraryStoreError
from relayarr.library.db import (
    EventInfo,
    ItemKind,
    LibraryStore,
    ScanStatus,
    head_revision,
    migrate,
)
from relayarr.library.db.engine import make_engine
from relayarr.library.db.models import Base
from relayarr.library.roots import LibraryRoot, RootKind
from relayarr.library.scanner import Scanner
from servers import POSTGRES_PASSWORD, postgres_server

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the module; tests empty it after themselves."""
    server = postgres_server()
    name = server.create_database()
    url = server.url(name)
    asyncio.run(migrate(url))
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture(params=ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/library.db"
    value: str = request.getfixturevalue("postgres_url")
    return value


@pytest.fixture
async def store(url: str) -> AsyncIterator[LibraryStore]:
    await migrate(url)
    opened = await LibraryStore.open(url)
    try:
        yield opened
    finally:
        await opened.close()
        await _empty(url)


async def _empty(url: str) -> None:
    engine = make_engine(url, create=False)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(delete(table))
    finally:
        await engine.dispose()


def make(root: Path, files: dict[str, int | str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):
            path.write_bytes(b"\0" * content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def movies(tmp_path: Path) -> LibraryRoot:
    root = tmp_path / "movies"
    make(
        root / "Arrival (2016)",
        {
            "Arrival (2016).mkv": 1000,
            "movie.nfo": "<movie><title>Arrival</title><originaltitle>Story of Your Life"
            '</originaltitle><year>2016</year><uniqueid type="tmdb">329865</uniqueid>'
            '<uniqueid type="imdb">tt2543164</uniqueid></movie>',
            "poster.jpg": 10,
            "Arrival (2016).en.srt": 5,
        },
    )
    return LibraryRoot(root, RootKind.MOVIES)


@pytest.fixture
def tv(tmp_path: Path) -> LibraryRoot:
    root = tmp_path / "tv"
    make(
        root / "Severance",
        {
            "tvshow.nfo": '<tvshow><title>Severance</title><uniqueid type="tvdb">371980'
            "</uniqueid></tvshow>",
            "season01-poster.jpg": 1,
            "Season 01/Severance - S01E01 - Good News.mkv": 100,
            "Season 01/Severance - S01E01 - Good News.nfo": "<episodedetails><title>Good "
            "News About Hell</title><episode>1</episode></episodedetails>",
            "Season 01/Severance - S01E02E03 - Double.mkv": 100,
        },
    )
    return LibraryRoot(root, RootKind.SERIES)


SCANNER = Scanner()


async def test_a_movie_scan_is_recorded_then_unchanged(
    store: LibraryStore, movies: LibraryRoot
) -> None:
    folder = movies.path / "Arrival (2016)"
    scan = SCANNER.scan_movie(folder)
    first = await store.record_movie_scan(scan, movies)
    assert first.created
    assert first.kind is ItemKind.MOVIE
    assert sorted(first.added) == sorted(
        f"{folder}/{name}"
        for name in ("Arrival (2016).mkv", "movie.nfo", "poster.jpg", "Arrival (2016).en.srt")
    )
    again = await store.record_movie_scan(SCANNER.scan_movie(folder), movies)
    assert again.item_id == first.item_id
    assert again.unchanged

    detail = await store.get_movie(first.item_id)
    assert detail is not None
    item = detail.item
    assert (item.title, item.original_title, item.year) == ("Arrival", "Story of Your Life", 2016)
    assert (item.tmdb_id, item.imdb_id) == (329865, "tt2543164")
    assert item.root == str(movies.path)
    assert item.folder == str(folder)
    roles = {file.path.rsplit("/", 1)[1]: file.role for file in detail.files}
    assert roles == {"Arrival (2016).mkv": "video", "Arrival (2016).en.srt": "subtitle"}
    subtitle = next(file for file in detail.files if file.role == "subtitle")
    assert subtitle.details == {
        "video": f"{folder}/Arrival (2016).mkv",
        "language": "en",
        "flags": [],
        "label": None,
    }
    kinds = {asset.kind: asset.scope for asset in detail.assets}
    assert kinds == {"poster": "folder", "nfo": "folder"}
    nfo = next(asset for asset in detail.assets if asset.kind == "nfo")
    assert nfo.details is not None
    assert "info" in nfo.details


async def test_the_event_wins_over_the_nfo_and_the_folder_fills_in(
    store: LibraryStore, tmp_path: Path
) -> None:
    folder = make(tmp_path / "m" / "Dune (2021) {imdb-tt1160419}", {"Dune.mkv": 10})
    record = await store.record_movie_scan(
        SCANNER.scan_movie(folder), str(tmp_path / "m"), EventInfo(tmdb_id=438631)
    )
    detail = await store.get_movie(record.item_id)
    assert detail is not None
    assert (detail.item.title, detail.item.year, detail.item.tmdb_id) == ("Dune", 2021, 438631)


async def test_an_upgrade_replaces_the_file_and_keeps_the_others(
    store: LibraryStore, movies: LibraryRoot
) -> None:
    folder = movies.path / "Arrival (2016)"
    first = await store.record_movie_scan(SCANNER.scan_movie(folder), movies)
    before = await store.get_movie(first.item_id)
    assert before is not None
    (folder / "Arrival (2016).mkv").unlink()
    make(folder, {"Arrival (2016) [2160p].mkv": 5000})
    (folder / "poster.jpg").write_bytes(b"a new poster")
    record = await store.record_movie_scan(
        SCANNER.scan_movie(folder, hint=str(folder / "Arrival (2016) [2160p].mkv")), movies
    )
    assert not record.created
    assert record.added == (f"{folder}/Arrival (2016) [2160p].mkv",)
    assert record.removed == (f"{folder}/Arrival (2016).mkv",)
    # The poster's content changed; the subtitle now belongs to the new video.
    assert sorted(record.changed) == [f"{folder}/Arrival (2016).en.srt", f"{folder}/poster.jpg"]
    after = await store.get_movie(first.item_id)
    assert after is not None
    unchanged = f"{folder}/movie.nfo"
    assert {a.id for a in after.assets if a.path == unchanged} == {
        a.id for a in before.assets if a.path == unchanged
    }


async def test_a_series_with_seasons_and_multi_episode_files(
    store: LibraryStore, tv: LibraryRoot
) -> None:
    folder = tv.path / "Severance"
    record = await store.record_series_scan(SCANNER.scan_series(folder), tv)
    detail = await store.get_series(record.item_id)
    assert detail is not None
    assert (detail.item.title, detail.item.tvdb_id) == ("Severance", 371980)
    assert [(s.number, s.folder) for s in detail.seasons] == [(1, f"{folder}/Season 01")]
    episodes = [
        (e.episode, e.title, e.file_path.rsplit("/", 1)[1]) for e in detail.seasons[0].episodes
    ]
    assert episodes == [
        (1, "Good News About Hell", "Severance - S01E01 - Good News.mkv"),
        (2, None, "Severance - S01E02E03 - Double.mkv"),
        (3, None, "Severance - S01E02E03 - Double.mkv"),
    ]
    season_art = [a for a in detail.assets if a.scope == "season"]
    assert [(a.kind, a.season) for a in season_art] == [("poster", 1)]


async def test_an_episode_upgrade_moves_the_episode_to_the_new_file(
    store: LibraryStore, tv: LibraryRoot
) -> None:
    folder = tv.path / "Severance"
    record = await store.record_series_scan(SCANNER.scan_series(folder), tv)
    old = folder / "Season 01" / "Severance - S01E02E03 - Double.mkv"
    old.unlink()
    make(folder, {"Season 01/Severance - S01E02E03 - Double [1080p].mkv": 500})
    again = await store.record_series_scan(SCANNER.scan_series(folder), tv)
    assert again.removed == (str(old),)
    detail = await store.get_series(record.item_id)
    assert detail is not None
    paths = {e.episode: e.file_path for e in detail.seasons[0].episodes}
    assert paths[2] == paths[3] == f"{folder}/Season 01/Severance - S01E02E03 - Double [1080p].mkv"


async def test_deleted_and_renamed_files_follow_the_arr(
    store: LibraryStore, tv: LibraryRoot, movies: LibraryRoot
) -> None:
    series = tv.path / "Severance"
    record = await store.record_series_scan(SCANNER.scan_series(series), tv)
    await store.record_movie_scan(SCANNER.scan_movie(movies.path / "Arrival (2016)"), movies)
    double = f"{series}/Season 01/Severance - S01E02E03 - Double.mkv"
    removed = await store.remove_files([double, "/not/stored.mkv"])
    assert removed.paths == (double,)
    assert [(ref.kind, ref.id) for ref in removed.items] == [(ItemKind.SERIES, record.item_id)]
    detail = await store.get_series(record.item_id)
    assert detail is not None
    assert [e.episode for e in detail.seasons[0].episodes] == [1]  # its episodes went with it

    old = f"{series}/Season 01/Severance - S01E01 - Good News.mkv"
    new = f"{series}/Season 01/Severance - S01E01 - Good News About Hell.mkv"
    renamed = await store.rename_files([(old, new), ("/not/stored", "/elsewhere")])
    assert renamed.paths == (new,)
    detail = await store.get_series(record.item_id)
    assert detail is not None
    assert detail.seasons[0].episodes[0].file_path == new
    nfo = next(a for a in detail.assets if a.kind == "nfo" and a.scope == "video")
    assert nfo.video_path == new  # what pointed at the old name follows too


async def test_removing_items_takes_everything_of_theirs(
    store: LibraryStore, tv: LibraryRoot, movies: LibraryRoot
) -> None:
    movie = await store.record_movie_scan(
        SCANNER.scan_movie(movies.path / "Arrival (2016)"), movies
    )
    series = await store.record_series_scan(SCANNER.scan_series(tv.path / "Severance"), tv)
    await store.link_job(ItemKind.MOVIE, movie.item_id, 41, "scan-movie")
    ref = await store.remove_movie(str(movies.path / "Arrival (2016)"))
    assert ref is not None
    assert (ref.kind, ref.id) == (ItemKind.MOVIE, movie.item_id)
    assert await store.get_movie(movie.item_id) is None
    assert await store.remove_movie(str(movies.path / "Arrival (2016)")) is None
    assert await store.remove_series(str(tv.path / "Severance")) is not None
    assert await store.get_series(series.item_id) is None
    # The files are gone too: recording the movie again adds every one anew.
    again = await store.record_movie_scan(
        SCANNER.scan_movie(movies.path / "Arrival (2016)"), movies
    )
    assert again.created
    assert len(again.added) == 4
    detail = await store.get_movie(again.item_id)
    assert detail is not None
    assert detail.jobs == ()


async def test_jobs_are_linked_once_and_shown(store: LibraryStore, movies: LibraryRoot) -> None:
    record = await store.record_movie_scan(
        SCANNER.scan_movie(movies.path / "Arrival (2016)"), movies
    )
    for job_id, job_type in ((12, "webhook"), (13, "scan-movie"), (13, "scan-movie")):
        await store.link_job(ItemKind.MOVIE, record.item_id, job_id, job_type)
    detail = await store.get_movie(record.item_id)
    assert detail is not None
    assert [(job.job_id, job.job_type) for job in detail.jobs] == [
        (12, "webhook"),
        (13, "scan-movie"),
    ]
    assert detail.jobs[0].linked_at.tzinfo is not None


async def test_listing_pages_by_title_with_an_opaque_cursor(
    store: LibraryStore, tmp_path: Path
) -> None:
    root = tmp_path / "many"
    titles = [f"Film {n:03d} ({1950 + n})" for n in range(120)]
    for title in titles:
        folder = make(root / title, {"f.mkv": 1})
        await store.record_movie_scan(SCANNER.scan_movie(folder), str(root))
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await store.list_movies(cursor=cursor, limit=50)
        seen += [item.title for item in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"Film {n:03d}" for n in range(120)]
    # A new movie sorting before the cursor does not shift the next page.
    first = await store.list_movies(limit=10)
    await store.record_movie_scan(
        SCANNER.scan_movie(make(root / "A (2000)", {"a.mkv": 1})), str(root)
    )
    second = await store.list_movies(cursor=first.next_cursor, limit=1)
    assert second.items[0].title == "Film 010"


async def test_search_ignores_case_and_accents_as_typed(
    store: LibraryStore, tmp_path: Path
) -> None:
    root = tmp_path / "m"
    for name in ("Amélie (2001)", "100% Wolf (2020)", "A_B (1999)", "Arrival (2016)"):
        await store.record_movie_scan(
            SCANNER.scan_movie(make(root / name, {"v.mkv": 1})), str(root)
        )

    async def titles(search: str) -> list[str]:
        return [item.title for item in (await store.list_movies(search=search)).items]

    assert await titles("AMÉLIE") == ["Amélie"]
    assert await titles("100%") == ["100% Wolf"]  # % and _ are literal, not wildcards
    assert await titles("a_b") == ["A_B"]
    assert await titles("2016") == ["Arrival"]
    assert await titles("nothing like it") == []


async def test_bad_cursors_are_refused(store: LibraryStore, tmp_path: Path) -> None:
    root = tmp_path / "m"
    for n in range(3):
        await store.record_movie_scan(
            SCANNER.scan_movie(make(root / f"M{n}", {"v.mkv": 1})), str(root)
        )
    movie_cursor = (await store.list_movies(limit=1)).next_cursor
    assert movie_cursor is not None
    with pytest.raises(InvalidCursor, match="another listing"):
        await store.list_series(cursor=movie_cursor)
    for bad in ("not-base64!!", "bm90IGpzb24", "WzEsMiwzXQ"):
        with pytest.raises(InvalidCursor, match="is not a library cursor"):
            await store.list_movies(cursor=bad)


async def test_scan_runs_are_recorded(store: LibraryStore) -> None:
    first = await store.start_scan_run("reconcile", root="/srv/media/movies", job_id=5)
    second = await store.start_scan_run("movie", folder="/srv/media/movies/X")
    await store.finish_scan_run(first, ScanStatus.COMPLETED, summary={"new": 2, "removed": 0})
    await store.finish_scan_run(second, ScanStatus.FAILED, error="root unavailable")
    runs = await store.scan_runs()
    assert [(run.id, run.kind, run.status) for run in runs] == [
        (second, "movie", ScanStatus.FAILED),
        (first, "reconcile", ScanStatus.COMPLETED),
    ]
    assert runs[1].summary == {"new": 2, "removed": 0}
    assert runs[1].job_id == 5
    assert runs[0].error == "root unavailable"
    assert runs[0].finished_at is not None
    assert runs[0].finished_at >= runs[0].started_at


async def test_folder_signatures_stream_in_batches(store: LibraryStore, tmp_path: Path) -> None:
    root = LibraryRoot(tmp_path / "m", RootKind.MOVIES)
    scans = {}
    for n in range(7):
        scan = SCANNER.scan_movie(make(root.path / f"M{n}", {"v.mkv": n + 1}))
        scans[scan.folder] = scan.signature
        await store.record_movie_scan(scan, root)
    streamed = [pair async for pair in store.folder_signatures(root, batch=2)]
    assert streamed == sorted(scans.items())
    wanted = [f"{root.path}/M1", f"{root.path}/M5", f"{root.path}/gone"]
    assert await store.signatures_for(root, wanted) == {
        folder: scans[folder] for folder in wanted[:2]
    }
    other = LibraryRoot(tmp_path / "tv", RootKind.SERIES)
    assert [pair async for pair in store.folder_signatures(other)] == []


async def test_two_workers_recording_one_new_folder_make_one_item(
    url: str, movies: LibraryRoot
) -> None:
    await migrate(url)
    stores = [await LibraryStore.open(url) for _ in range(2)]
    try:
        scan = SCANNER.scan_movie(movies.path / "Arrival (2016)")
        records = await asyncio.gather(*(s.record_movie_scan(scan, movies) for s in stores))
        assert records[0].item_id == records[1].item_id
        assert sorted(record.created for record in records) == [False, True]
        page = await stores[0].list_movies()
        assert len(page.items) == 1
    finally:
        for opened in stores:
            await opened.close()
        await _empty(url)


async def test_an_unmigrated_or_missing_database_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "library.db"
    with pytest.raises(LibraryStoreError, match=f"{missing} does not exist; create it with"):
        await LibraryStore.open(f"sqlite:///{missing}")
    assert not missing.parent.exists()  # nothing was created
    empty = tmp_path / "empty.db"
    empty.touch()
    needs = f"is empty, this relayarr needs {head_revision()}; run: relayarr migrate"
    with pytest.raises(LibraryStoreError, match=needs):
        await LibraryStore.open(f"sqlite:///{empty}")
    created = await LibraryStore.open(f"sqlite:///{tmp_path}/made/library.db", create=True)
    await created.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("redis://localhost/0", "needs sqlite:// or postgresql://"),
        ("not a url", "is not a URL"),
    ],
)
async def test_unusable_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(LibraryStoreError, match=reason):
        await LibraryStore.open(url)


async def test_a_wrong_password_is_reported_without_the_password() -> None:
    server = postgres_server()
    url = server.url("postgres", password="wrong-secret-value")
    with pytest.raises(LibraryStoreError) as caught:
        await LibraryStore.open(url)
    message = str(caught.value)
    assert "***" in message
    assert "wrong-secret-value" not in message
    assert POSTGRES_PASSWORD not in message


async def test_a_corrupt_sqlite_file_is_a_library_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(LibraryStoreError, match=r"corrupt\.db"):
        await LibraryStore.open(f"sqlite:///{path}")
