"""The library store: the async verbs the job handlers and the API call, each one
transaction.

>>> store = await LibraryStore.open("sqlite:///data/library.db")       # doctest: +SKIP
>>> record = await store.record_movie_scan(scan, root, EventInfo(tmdb_id=329865))
>>> await store.link_job(record.kind, record.item_id, job.id, job.type)
>>> page = await store.list_movies(search="arrival", limit=20)

Every database failure is raised as :class:`~relayarr.errors.LibraryStoreError` naming
the operation and the database (never its password); a handler may retry it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from relayarr.errors import LibraryStoreError
from relayarr.library.db import queries
from relayarr.library.db.engine import READ_ONLY, make_engine, shown
from relayarr.library.db.metastore import MetadataStore
from relayarr.library.db.migrate import current_revision, head_revision, migrate
from relayarr.library.db.models import Asset, JobLink, MediaFile, Movie, ScanRun, Series
from relayarr.library.db.records import (
    AssetRecord,
    EventInfo,
    FileChange,
    ItemDetail,
    ItemKind,
    ItemRef,
    ItemSummary,
    Page,
    ScanRecord,
    ScanRunRecord,
    ScanStatus,
)
from relayarr.library.db.rows import ItemFields, ScanRows, movie_rows, series_rows
from relayarr.library.db.sync import sync_children
from relayarr.library.jsontypes import JSONObject
from relayarr.library.results import MovieScan, SeriesScan
from relayarr.library.roots import LibraryRoot, RootKind

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_CHUNK = 500  # paths per statement: well under SQLite's limit on bound parameters
_MODELS: dict[ItemKind, type[Movie] | type[Series]] = {
    ItemKind.MOVIE: Movie,
    ItemKind.SERIES: Series,
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LibraryStore:
    """The library database behind async verbs on the library's own values."""

    def __init__(self, engine: AsyncEngine, url: str, clock: Clock = _utc_now) -> None:
        self._engine = engine
        self._url = shown(url)
        self._clock = clock
        self._writer = async_sessionmaker(engine, expire_on_commit=False)
        reader = engine.execution_options(**{READ_ONLY: True})
        self._reader = async_sessionmaker(reader, expire_on_commit=False)
        self.metadata = MetadataStore(self._write, self._read, engine.dialect.name, clock)
        """The metadata services' tables (provider cache, locks, published files)."""

    @classmethod
    async def open(cls, url: str, *, create: bool = False, clock: Clock = _utc_now) -> LibraryStore:
        """Open the library at ``url``; with ``create``, migrate it first.

        Raises :class:`~relayarr.errors.LibraryStoreError` when it does not exist or is not
        at this relayarr's revision (the message says to run ``relayarr migrate``).
        """
        if create:
            await migrate(url)
        engine = make_engine(url, create=False)
        store = cls(engine, url, clock)
        try:
            async with engine.connect() as connection:
                revision = await connection.run_sync(current_revision)
        except (SQLAlchemyError, OSError) as exc:
            await engine.dispose()
            raise LibraryStoreError(
                f"cannot open the library database {store._url}: {exc}"
            ) from exc
        head = head_revision()
        if revision != head:
            await engine.dispose()
            at = "empty" if revision is None else f"at revision {revision}"
            raise LibraryStoreError(
                f"the library database {store._url} is {at}, this relayarr needs {head}; "
                "run: relayarr migrate"
            )
        return store

    async def close(self) -> None:
        await self._engine.dispose()

    # -- recording scans ----------------------------------------------------------------

    async def record_movie_scan(
        self, scan: MovieScan, root: LibraryRoot | str, info: EventInfo | None = None
    ) -> ScanRecord:
        """Store a movie scan: the movie (found by folder, created if new) and its files
        and assets made to match the scan. ``info`` comes from the event, if any."""
        return await self._record(ItemKind.MOVIE, scan.folder, root, movie_rows(scan, info), scan)

    async def record_series_scan(
        self, scan: SeriesScan, root: LibraryRoot | str, info: EventInfo | None = None
    ) -> ScanRecord:
        """Store a series scan: the series, its files, assets, seasons and episodes."""
        return await self._record(ItemKind.SERIES, scan.folder, root, series_rows(scan, info), scan)

    async def _record(
        self,
        kind: ItemKind,
        folder: str,
        root: LibraryRoot | str,
        rows: ScanRows,
        scan: MovieScan | SeriesScan,
    ) -> ScanRecord:
        root_path = str(root.path) if isinstance(root, LibraryRoot) else root
        issues = [issue.to_json() for issue in scan.issues]
        async with self._write("record scan") as session:
            item_id, created = await self._upsert_item(
                session, kind, folder, root_path, rows.fields
            )
            await session.execute(
                update(_MODELS[kind])
                .where(_MODELS[kind].id == item_id)
                .values(
                    root=root_path,
                    signature=scan.signature,
                    issues=issues,
                    scanned_at=self._clock(),
                    **_field_values(kind, rows.fields, folder),
                )
            )
            changes = await sync_children(session, kind, item_id, rows)
        record = ScanRecord(
            kind=kind,
            item_id=item_id,
            created=created,
            added=tuple(changes.added),
            removed=tuple(changes.removed),
            changed=tuple(changes.changed),
        )
        log.info(
            "library scan recorded",
            extra={
                "service": "library",
                "kind": kind.value,
                "item_id": item_id,
                "folder": folder,
                "new_item": created,
                "added": len(record.added),
                "removed": len(record.removed),
                "changed": len(record.changed),
            },
        )
        return record

    async def _upsert_item(
        self, session: AsyncSession, kind: ItemKind, folder: str, root: str, fields: ItemFields
    ) -> tuple[int, bool]:
        model = _MODELS[kind]
        found = await session.scalar(select(model.id).where(model.folder == folder))
        if found is not None:
            return found, False
        now = self._clock()
        values = {
            "root": root,
            "folder": folder,
            "signature": "",
            "issues": [],
            "created_at": now,
            "scanned_at": now,
            **_field_values(kind, fields, folder),
        }
        insert = postgres_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=["folder"])
        inserted = await session.scalar(statement.returning(model.id))
        if inserted is not None:
            return inserted, True
        # Another worker created it between our look and our insert: use theirs.
        existing = await session.scalar(select(model.id).where(model.folder == folder))
        assert existing is not None, "a conflicting insert leaves the row"
        return existing, False

    # -- what the *arrs tell us ------------------------------------------------------------

    async def remove_files(self, paths: Iterable[str]) -> FileChange:
        """Forget files (absolute paths) the *arr deleted; unknown paths are ignored. An
        episode whose file goes goes with it."""
        wanted = list(dict.fromkeys(paths))
        removed: list[tuple[str, int | None, int | None]] = []
        async with self._write("remove files") as session:
            for model in (MediaFile, Asset):
                for start in range(0, len(wanted), _CHUNK):
                    chunk = wanted[start : start + _CHUNK]
                    result = await session.execute(
                        delete(model)
                        .where(model.path.in_(chunk))
                        .returning(model.path, model.movie_id, model.series_id)
                    )
                    removed += [(row[0], row[1], row[2]) for row in result]
            items = await queries.item_refs(session, removed)
        return FileChange(tuple(path for path, _, _ in removed), items)

    async def rename_files(self, pairs: Iterable[tuple[str, str]]) -> FileChange:
        """Follow files the *arr renamed (``(old, new)`` absolute paths). A stored row at
        the new path is replaced; unknown old paths are ignored."""
        touched: list[tuple[str, int | None, int | None]] = []
        async with self._write("rename files") as session:
            for old, new in pairs:
                if old == new:
                    continue
                for model in (MediaFile, Asset):
                    await session.execute(delete(model).where(model.path == new))
                    result = await session.execute(
                        update(model)
                        .where(model.path == old)
                        .values(path=new)
                        .returning(model.movie_id, model.series_id)
                    )
                    touched += [(new, row[0], row[1]) for row in result]
                await session.execute(
                    update(Asset).where(Asset.video_path == old).values(video_path=new)
                )
            items = await queries.item_refs(session, touched)
        return FileChange(tuple(path for path, _, _ in touched), items)

    async def remove_movie(self, folder: str) -> ItemRef | None:
        """Forget a movie (the *arr deleted it) with its files, assets and job links."""
        return await self._remove(ItemKind.MOVIE, folder)

    async def remove_series(self, folder: str) -> ItemRef | None:
        """Forget a series with its seasons, episodes, files, assets and job links."""
        return await self._remove(ItemKind.SERIES, folder)

    async def _remove(self, kind: ItemKind, folder: str) -> ItemRef | None:
        model = _MODELS[kind]
        async with self._write(f"remove {kind.value}") as session:
            item_id = await session.scalar(
                delete(model).where(model.folder == folder).returning(model.id)
            )
            if item_id is None:
                return None
            await session.execute(
                delete(JobLink).where(JobLink.item_kind == kind.value, JobLink.item_id == item_id)
            )
        return ItemRef(kind, item_id, folder)

    async def find_item(self, kind: ItemKind, folder: str) -> ItemRef | None:
        """The stored item of a folder, if any."""
        model = _MODELS[kind]
        async with self._read("find item") as session:
            item_id = await session.scalar(select(model.id).where(model.folder == folder))
        return None if item_id is None else ItemRef(kind, item_id, folder)

    async def link_job(self, kind: ItemKind, item_id: int, job_id: int, job_type: str) -> None:
        """Remember that a job touched an item (again is harmless)."""
        async with self._write("link job") as session:
            insert = postgres_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
            await session.execute(
                insert(JobLink)
                .values(
                    item_kind=kind.value,
                    item_id=item_id,
                    job_id=job_id,
                    job_type=job_type,
                    linked_at=self._clock(),
                )
                .on_conflict_do_nothing(index_elements=["item_kind", "item_id", "job_id"])
            )

    # -- reading ---------------------------------------------------------------------------

    async def list_movies(
        self, search: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[ItemSummary]:
        """Movies by title, ``limit`` at a time; ``search`` matches any part of the title,
        original title, folder name or year, ignoring case. Raises
        :class:`~relayarr.errors.InvalidCursor` for a cursor this listing did not make."""
        async with self._read("list movies") as session:
            return await queries.list_items(session, ItemKind.MOVIE, search, cursor, limit)

    async def list_series(
        self, search: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page[ItemSummary]:
        """Series by title, as :meth:`list_movies`."""
        async with self._read("list series") as session:
            return await queries.list_items(session, ItemKind.SERIES, search, cursor, limit)

    async def list_recent(
        self,
        kinds: Sequence[ItemKind] = (ItemKind.MOVIE, ItemKind.SERIES),
        search: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[ItemSummary]:
        """Movies and series of ``kinds`` together, the most recently scanned first;
        ``search`` as :meth:`list_movies`. Raises :class:`~relayarr.errors.InvalidCursor`
        for a cursor this listing did not make."""
        async with self._read("list recent items") as session:
            return await queries.list_recent(session, kinds, search, cursor, limit)

    async def posters(
        self, kind: ItemKind, item_ids: Sequence[int]
    ) -> dict[int, tuple[AssetRecord, ...]]:
        """The poster assets (``kind == "poster"``, any scope) of some items, by item id."""
        async with self._read("list posters") as session:
            return await queries.item_posters(session, kind, item_ids)

    async def get_movie(self, movie_id: int) -> ItemDetail | None:
        """One movie with its files, assets and jobs; ``None`` if there is no such id."""
        async with self._read("get movie") as session:
            return await queries.item_detail(session, ItemKind.MOVIE, movie_id)

    async def get_series(self, series_id: int) -> ItemDetail | None:
        """One series with its seasons and episodes, files, assets and jobs."""
        async with self._read("get series") as session:
            return await queries.item_detail(session, ItemKind.SERIES, series_id)

    # -- scan runs and reconciliation -------------------------------------------------------

    async def start_scan_run(
        self,
        kind: str,
        *,
        root: str | None = None,
        folder: str | None = None,
        job_id: int | None = None,
    ) -> int:
        """Record that a scan (``movie``, ``series``, ``reconcile``) started; its id."""
        async with self._write("start scan run") as session:
            run = ScanRun(
                kind=kind,
                root=root,
                folder=folder,
                job_id=job_id,
                status=ScanStatus.RUNNING.value,
                started_at=self._clock(),
            )
            session.add(run)
            await session.flush()
            return run.id

    async def finish_scan_run(
        self,
        run_id: int,
        status: ScanStatus,
        *,
        summary: JSONObject | None = None,
        error: str | None = None,
    ) -> None:
        """Record how a scan run ended."""
        async with self._write("finish scan run") as session:
            await session.execute(
                update(ScanRun)
                .where(ScanRun.id == run_id)
                .values(
                    status=status.value, finished_at=self._clock(), summary=summary, error=error
                )
            )

    async def scan_runs(self, limit: int = 20) -> tuple[ScanRunRecord, ...]:
        """The latest scan runs, newest first."""
        async with self._read("list scan runs") as session:
            return await queries.scan_runs(session, limit)

    async def folder_signatures(
        self, root: LibraryRoot, batch: int = 1000
    ) -> AsyncGenerator[tuple[str, str], None]:
        """Every stored ``(folder, signature)`` of a root, in folder order, fetched in
        batches so a large library is never held whole."""
        statement = _FOLDER_SIGNATURES[_kind_of(root)]
        after = ""
        while True:
            async with self._read("read folder signatures") as session:
                values = {"root": str(root.path), "after": after, "batch": batch}
                rows = (await session.execute(statement, values)).all()
            for folder, signature in rows:
                yield folder, signature
            if len(rows) < batch:
                return
            after = rows[-1][0]

    async def signatures_for(self, root: LibraryRoot, folders: Sequence[str]) -> dict[str, str]:
        """The stored signatures of some folders of a root (absent: never scanned)."""
        statement = _SIGNATURES_FOR[_kind_of(root)]
        found: dict[str, str] = {}
        async with self._read("read folder signatures") as session:
            for start in range(0, len(folders), _CHUNK):
                chunk = list(folders[start : start + _CHUNK])
                result = await session.execute(statement, {"folders": chunk})
                found.update(result.all())
        return found

    # -- transactions ------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self, operation: str) -> AsyncIterator[AsyncSession]:
        async with self._guard(operation), self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _read(self, operation: str) -> AsyncIterator[AsyncSession]:
        async with self._guard(operation), self._reader() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _guard(self, operation: str) -> AsyncIterator[None]:
        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            original = getattr(exc, "orig", None) or exc
            log.warning(
                "library database failed",
                extra={"service": "library", "operation": operation, "error": str(original)},
            )
            raise LibraryStoreError(
                f"library database {self._url}: {operation} failed: {original}"
            ) from exc


# Built once, the folders passed at execution: a statement per call would carry its
# folders until the cycle collector freed it, which made reconciliation's memory grow.
_SIGNATURES_FOR = {
    kind: select(model.folder, model.signature).where(
        model.folder.in_(bindparam("folders", expanding=True))
    )
    for kind, model in _MODELS.items()
}
_FOLDER_SIGNATURES = {
    kind: select(model.folder, model.signature)
    .where(model.root == bindparam("root"), model.folder > bindparam("after"))
    .order_by(model.folder)
    .limit(bindparam("batch"))
    for kind, model in _MODELS.items()
}


def _kind_of(root: LibraryRoot) -> ItemKind:
    return ItemKind.MOVIE if root.kind is RootKind.MOVIES else ItemKind.SERIES


def _field_values(kind: ItemKind, fields: ItemFields, folder: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": fields.title,
        "original_title": fields.original_title,
        "year": fields.year,
        "tmdb_id": fields.tmdb_id,
        "imdb_id": fields.imdb_id,
        "sort_key": fields.sort_key,
        "search_text": fields.search_text(folder),
    }
    if kind is ItemKind.SERIES:
        values["tvdb_id"] = fields.tvdb_id
    return values


__all__ = ["LibraryStore"]
