"""The library's recent-items listing on SQLite and PostgreSQL: movies and series together,
the most recently scanned first, ties settled the same way on every page, searchable, and
paged by a cursor that nothing else accepts; and the poster lookup for a page of items."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, event

from relayarr.errors import InvalidCursor
from relayarr.library.db import ItemKind, LibraryStore, migrate
from relayarr.library.db.engine import make_engine
from relayarr.library.db.models import Base
from relayarr.library.scanner import Scanner
from servers import postgres_server

SCANNER = Scanner()
START = datetime(2025, 3, 8, 21, 0, tzinfo=UTC)


class Clock:
    """The store's clock, moved by the test: scans made at the same moment tie."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    server = postgres_server()
    name = server.create_database()
    url = server.url(name)
    asyncio.run(migrate(url))
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture(params=("sqlite", "postgresql"))
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/library.db"
    value: str = request.getfixturevalue("postgres_url")
    return value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(url: str, clock: Clock) -> AsyncIterator[LibraryStore]:
    await migrate(url)
    opened = await LibraryStore.open(url, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
        engine = make_engine(url, create=False)
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(delete(table))
        await engine.dispose()


def folder(root: Path, name: str, files: dict[str, int]) -> Path:
    for relative, size in files.items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * size)
    return root / name


async def add_movie(
    store: LibraryStore, root: Path, name: str, extra: dict[str, int] | None = None
) -> int:
    made = folder(root, name, {"v.mkv": 1, **(extra or {})})
    return (await store.record_movie_scan(SCANNER.scan_movie(made), str(root))).item_id


async def add_series(store: LibraryStore, root: Path, name: str) -> int:
    made = folder(root, name, {"Season 01/Show - S01E01.mkv": 1})
    return (await store.record_series_scan(SCANNER.scan_series(made), str(root))).item_id


async def everything(store: LibraryStore, limit: int, **options: object) -> list[str]:
    titles: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_recent(cursor=cursor, limit=limit, **options)  # type: ignore[arg-type]
        assert len(page.items) <= limit
        titles += [f"{item.kind.value}:{item.title}" for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return titles


async def test_newest_scans_come_first_across_movies_and_series(
    store: LibraryStore, clock: Clock, tmp_path: Path
) -> None:
    movies, tv = tmp_path / "movies", tmp_path / "tv"
    expected: list[str] = []
    for n in range(7):
        clock.now = START + timedelta(minutes=n)
        await add_movie(store, movies, f"Film {n} (2000)")
        expected.append(f"movie:Film {n}")
        if n % 2:
            await add_series(store, tv, f"Show {n}")
            expected.append(f"series:Show {n}")
    # Three scans in the same microsecond: series before movies, higher ids first.
    clock.now = START + timedelta(hours=1)
    await add_movie(store, movies, "Tie A (2001)")
    await add_movie(store, movies, "Tie B (2001)")
    await add_series(store, tv, "Tie Show")
    newest_first = ["series:Tie Show", "movie:Tie B", "movie:Tie A", *reversed(expected)]

    for limit in (1, 2, 3, 50):
        assert await everything(store, limit) == newest_first, limit
    assert await everything(store, 2, kinds=(ItemKind.SERIES,)) == [
        t for t in newest_first if t.startswith("series:")
    ]
    assert await everything(store, 2, search="tie") == newest_first[:3]


async def test_a_rescan_moves_an_item_to_the_top(
    store: LibraryStore, clock: Clock, tmp_path: Path
) -> None:
    movies = tmp_path / "movies"
    for n in range(3):
        clock.now = START + timedelta(minutes=n)
        await add_movie(store, movies, f"Film {n} (2000)")
    clock.now = START + timedelta(minutes=10)
    await add_movie(store, movies, "Film 0 (2000)", {"v.en.srt": 3})  # a new subtitle
    page = await store.list_recent(limit=10)
    assert [item.title for item in page.items] == ["Film 0", "Film 2", "Film 1"]


async def test_recent_cursors_are_checked(
    store: LibraryStore, clock: Clock, tmp_path: Path
) -> None:
    for n in range(3):
        clock.now = START + timedelta(minutes=n)
        await add_movie(store, tmp_path / "m", f"M{n} (2000)")
    recent = (await store.list_recent(limit=1)).next_cursor
    by_title = (await store.list_movies(limit=1)).next_cursor
    assert recent is not None
    assert by_title is not None
    with pytest.raises(InvalidCursor, match="not a recent-items cursor"):
        await store.list_recent(cursor=by_title)
    with pytest.raises(InvalidCursor):
        await store.list_movies(cursor=recent)
    for bad in ("not-base64!!", "WzEsMiwzXQ", "WyJyZWNlbnQiLCJ4IiwibW92aWUiLDFd"):
        with pytest.raises(InvalidCursor, match="not a recent-items cursor"):
            await store.list_recent(cursor=bad)


async def test_posters_of_a_page_of_items(store: LibraryStore, tmp_path: Path) -> None:
    movies = tmp_path / "movies"
    with_poster = await add_movie(
        store, movies, "Seen (2000)", {"poster.jpg": 4, "fanart.jpg": 4, "v-poster.jpg": 4}
    )
    without = await add_movie(store, movies, "Bare (2000)")
    found = await store.posters(ItemKind.MOVIE, [with_poster, without])
    assert set(found) == {with_poster}
    names = sorted(Path(asset.path).name for asset in found[with_poster])
    assert names == ["poster.jpg", "v-poster.jpg"]
    assert await store.posters(ItemKind.SERIES, [with_poster]) == {}
    assert await store.posters(ItemKind.MOVIE, []) == {}


async def test_sqlite_pages_by_the_scan_index(tmp_path: Path) -> None:
    """The listing's plan, not its speed: a page walks the (scanned_at, id) index rather
    than sorting the whole table."""
    url = f"sqlite:///{tmp_path}/library.db"
    await migrate(url)
    opened = await LibraryStore.open(url)
    statements: list[tuple[str, tuple[object, ...]]] = []

    def capture(_conn: object, _cursor: object, sql: str, params: object, *_: object) -> None:
        if "ORDER BY library_movies.scanned_at DESC" in sql and isinstance(params, tuple):
            statements.append((sql, params))

    engine = opened._engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        await opened.list_recent(kinds=[ItemKind.MOVIE], limit=10)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        await opened.close()
    [(sql, params)] = statements
    with sqlite3.connect(tmp_path / "library.db") as connection:
        rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    plan = " / ".join(str(row[3]) for row in rows)
    assert "USING INDEX ix_library_movies_scanned" in plan
    assert "TEMP B-TREE" not in plan
