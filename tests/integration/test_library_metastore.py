"""The metadata services' stores in the library database, on SQLite and a real PostgreSQL:
the response cache and its time to live, locks with their values, written fingerprints,
published files, provided metadata, and every row going with its movie or series."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from relayarr.library.db import LibraryStore, migrate
from relayarr.library.db.engine import make_engine
from relayarr.library.db.metastore import episode_ref, movie_ref, owner_of, series_ref
from relayarr.library.db.models import Base
from relayarr.library.roots import LibraryRoot, RootKind
from relayarr.library.scanner import Scanner
from relayarr.metadata import (
    Actor,
    Artwork,
    AssetRecord,
    FieldLocks,
    ItemRef,
    MovieMetadata,
    Rating,
    UniqueIds,
)
from servers import postgres_server


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 8, 21, 0, tzinfo=UTC)

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


@pytest.fixture(params=["sqlite", "postgresql"])
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
        try:
            async with engine.begin() as connection:
                for table in reversed(Base.metadata.sorted_tables):
                    await connection.execute(delete(table))
        finally:
            await engine.dispose()


async def a_movie(store: LibraryStore, tmp_path: Path) -> int:
    root = tmp_path / "movies"
    folder = root / "Arrival (2016)"
    folder.mkdir(parents=True)
    (folder / "Arrival (2016).mkv").write_bytes(b"\0" * 64)
    scan = Scanner(confine_to=[root]).scan_movie(folder)
    record = await store.record_movie_scan(scan, LibraryRoot(root, RootKind.MOVIES))
    return record.item_id


async def test_a_cached_answer_lives_for_its_ttl_only(store: LibraryStore, clock: Clock) -> None:
    cache = store.metadata
    await cache.put("tmdb /movie/329865 language=en-US", b'{"id": 329865}', 60)
    assert await cache.get("tmdb /movie/329865 language=en-US") == b'{"id": 329865}'
    assert await cache.get("tmdb /movie/1") is None
    clock.now += timedelta(seconds=59)
    assert await cache.get("tmdb /movie/329865 language=en-US") == b'{"id": 329865}'
    clock.now += timedelta(seconds=1)
    assert await cache.get("tmdb /movie/329865 language=en-US") is None
    # A newer answer replaces the old one; a TTL of 0 stores nothing.
    await cache.put("k", b"one", 10)
    await cache.put("k", b"two", 10)
    assert await cache.get("k") == b"two"
    await cache.put("zero", b"x", 0)
    assert await cache.get("zero") is None


async def test_locks_keep_their_values(store: LibraryStore, tmp_path: Path) -> None:
    movie = movie_ref(await a_movie(store, tmp_path))
    meta = store.metadata
    assert await meta.get_locks(movie) == FieldLocks()
    locks = FieldLocks(
        frozenset({"title", "genres", "ratings", "actors", "ids", "poster"}),
        {
            "title": "Arrival (Director's Cut)",
            "genres": ("Drama", "Science Fiction"),
            "ratings": (Rating("imdb", 7.9, 800000, default=True),),
            "actors": (Actor("Amy Adams", "Louise Banks", 0),),
            "ids": UniqueIds(tmdb=329865, imdb="tt2543164"),
        },
    )
    await meta.set_locks(movie, locks)
    assert await meta.get_locks(movie) == locks
    await meta.set_locks(movie, FieldLocks(frozenset({"plot"})))
    assert await meta.get_locks(movie) == FieldLocks(frozenset({"plot"}))


async def test_written_provided_and_published_values(store: LibraryStore, tmp_path: Path) -> None:
    movie = movie_ref(await a_movie(store, tmp_path))
    meta = store.metadata
    assert await meta.get_written(movie) is None
    await meta.set_written(movie, {"title": '"Arrival"', "year": "2016"})
    assert await meta.get_written(movie) == {"title": '"Arrival"', "year": "2016"}
    provided = MovieMetadata(
        title="Arrival",
        year=2016,
        genres=("Drama",),
        ids=UniqueIds(tmdb=329865),
        artwork=(Artwork("poster", "https://img/p.jpg", "en", 1000, 1500, 5.5, "tmdb"),),
    )
    assert await meta.get_provided(movie, MovieMetadata) is None
    await meta.set_provided(movie, provided)
    assert await meta.get_provided(movie, MovieMetadata) == provided
    await meta.set_published(movie, provided)
    state = await meta.state(movie)
    assert state.published is not None
    assert (state.published["title"], state.published["year"]) == ("Arrival", 2016)
    assert "artwork" not in state.published
    assert state.provided_at == datetime(2025, 3, 8, 21, 0, tzinfo=UTC)
    assert state.published_at == datetime(2025, 3, 8, 21, 0, tzinfo=UTC)
    # The written fingerprints survived the other writes to the same row.
    assert await meta.get_written(movie) == {"title": '"Arrival"', "year": "2016"}


async def test_published_files_are_upserted_by_item_and_name(
    store: LibraryStore, tmp_path: Path
) -> None:
    movie = movie_ref(await a_movie(store, tmp_path))
    meta = store.metadata
    first = AssetRecord(movie, "/m/Arrival", "Arrival-poster.jpg", "poster", "a" * 64, 10, "u", 1.5)
    await meta.put_asset(first)
    await meta.put_asset(AssetRecord(movie, "/m/Arrival", "Arrival.nfo", "nfo", "b" * 64, 20))
    again = AssetRecord(movie, "/m/Arrival", "Arrival-poster.jpg", "poster", "c" * 64, 11, "v", 2.5)
    await meta.put_asset(again)
    assert [r.name for r in await meta.assets(movie)] == ["Arrival-poster.jpg", "Arrival.nfo"]
    assert (await meta.assets(movie))[0] == again
    await meta.drop_asset(movie, "Arrival.nfo")
    await meta.drop_asset(movie, "never-there.nfo")
    assert await meta.assets(movie) == [again]


async def test_rows_go_with_their_movie(store: LibraryStore, tmp_path: Path) -> None:
    movie_id = await a_movie(store, tmp_path)
    movie = movie_ref(movie_id)
    meta = store.metadata
    await meta.set_locks(movie, FieldLocks(frozenset({"title"}), {"title": "Mine"}))
    await meta.put_asset(AssetRecord(movie, "/m", "Arrival.nfo", "nfo", "b" * 64, 20))
    await store.remove_movie(str(tmp_path / "movies" / "Arrival (2016)"))
    assert await meta.get_locks(movie) == FieldLocks()
    assert await meta.assets(movie) == []


def test_item_references_name_their_owner() -> None:
    assert owner_of(movie_ref(412)) == {"movie_id": 412, "series_id": None}
    assert owner_of(series_ref(87)) == {"movie_id": None, "series_id": 87}
    assert owner_of(episode_ref(87, 2, 3)) == {"movie_id": None, "series_id": 87}
    for bad in ("movie:", "movie:4:2", "film:3", "episode:x:1:2", ""):
        with pytest.raises(ValueError, match="not an item reference"):
            owner_of(ItemRef(bad))
