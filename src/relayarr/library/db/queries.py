"""The store's reads: paged listings with opaque cursors, item details, scan runs.

Listings page by keyset on ``(sort_key, id)``: a page costs the same wherever it is in the
library. The cursor is that pair and the listing's kind, base64-encoded; it is opaque to
clients and checked when it comes back.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from relayarr.errors import InvalidCursor
from relayarr.library.db.models import (
    Asset,
    Episode,
    JobLink,
    MediaFile,
    Movie,
    ScanRun,
    Season,
    Series,
)
from relayarr.library.db.records import (
    AssetRecord,
    EpisodeRecord,
    FileRecord,
    ItemDetail,
    ItemKind,
    ItemRef,
    ItemSummary,
    JobLinkRecord,
    Page,
    ScanRunRecord,
    ScanStatus,
    SeasonRecord,
)

MAX_LIMIT = 500
_Item = TypeVar("_Item", Movie, Series)
_MODELS: dict[ItemKind, type[Movie] | type[Series]] = {
    ItemKind.MOVIE: Movie,
    ItemKind.SERIES: Series,
}


def encode_cursor(kind: ItemKind, sort_key: str, item_id: int) -> str:
    raw = json.dumps([kind.value, sort_key, item_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: ItemKind, cursor: str) -> tuple[str, int]:
    """The position a cursor holds; :class:`InvalidCursor` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor(f"cursor {cursor[:40]!r} is not a library cursor") from None
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[1], str)
        or not isinstance(value[2], int)
    ):
        raise InvalidCursor(f"cursor {cursor[:40]!r} is not a library cursor")
    if value[0] != kind.value:
        raise InvalidCursor(f"cursor {cursor[:40]!r} belongs to another listing")
    return value[1], value[2]


async def list_items(
    session: AsyncSession,
    kind: ItemKind,
    search: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ItemSummary]:
    if kind is ItemKind.MOVIE:
        return await _page(session, Movie, kind, search, cursor, limit)
    return await _page(session, Series, kind, search, cursor, limit)


async def _page(
    session: AsyncSession,
    model: type[_Item],
    kind: ItemKind,
    search: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ItemSummary]:
    limit = max(1, min(limit, MAX_LIMIT))
    query = select(model)
    if search and search.strip():
        query = query.where(model.search_text.contains(search.strip().casefold(), autoescape=True))
    if cursor:
        key, item_id = decode_cursor(kind, cursor)
        query = query.where(
            or_(model.sort_key > key, and_(model.sort_key == key, model.id > item_id))
        )
    rows = list(await session.scalars(query.order_by(model.sort_key, model.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(kind, rows[-1].sort_key, rows[-1].id) if more else None
    return Page(tuple(_summary(kind, row) for row in rows), next_cursor)


_RANK = {ItemKind.MOVIE: 0, ItemKind.SERIES: 1}  # the tie-break between the two tables
_RECENT = "recent"


def encode_recent_cursor(scanned_at: datetime, kind: ItemKind, item_id: int) -> str:
    raw = json.dumps([_RECENT, scanned_at.astimezone(UTC).isoformat(), kind.value, item_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_recent_cursor(cursor: str) -> tuple[datetime, ItemKind, int]:
    """The position a recent-items cursor holds; :class:`InvalidCursor` for anything else."""
    problem = InvalidCursor(f"cursor {cursor[:40]!r} is not a recent-items cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if not isinstance(value, list) or len(value) != 4 or value[0] != _RECENT:
            raise problem
        _, stamp, kind, item_id = value
        if not isinstance(stamp, str) or not isinstance(item_id, int):
            raise problem
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise problem
        return moment, ItemKind(kind), item_id
    except (binascii.Error, ValueError, TypeError):
        raise problem from None


async def list_recent(
    session: AsyncSession,
    kinds: Sequence[ItemKind],
    search: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ItemSummary]:
    """Movies and series together, the most recently scanned first (ties by kind, then
    id, both descending), ``limit`` at a time."""
    limit = max(1, min(limit, MAX_LIMIT))
    after = decode_recent_cursor(cursor) if cursor else None
    found: list[ItemSummary] = []
    for kind in dict.fromkeys(kinds):
        found += await _recent_of(session, kind, search, after, limit + 1)
    found.sort(key=lambda item: (item.scanned_at, _RANK[item.kind], item.id), reverse=True)
    more = len(found) > limit
    found = found[:limit]
    last = found[-1] if more else None
    next_cursor = encode_recent_cursor(last.scanned_at, last.kind, last.id) if last else None
    return Page(tuple(found), next_cursor)


async def _recent_of(
    session: AsyncSession,
    kind: ItemKind,
    search: str | None,
    after: tuple[datetime, ItemKind, int] | None,
    limit: int,
) -> list[ItemSummary]:
    model = _MODELS[kind]
    query = select(model)
    if search and search.strip():
        query = query.where(model.search_text.contains(search.strip().casefold(), autoescape=True))
    if after is not None:
        stamp, after_kind, after_id = after
        # Descending (scanned_at, rank, id): this table's rank is fixed, so the tie on
        # scanned_at is settled by the ranks, or by the id within the cursor's own table.
        if _RANK[kind] < _RANK[after_kind]:
            query = query.where(model.scanned_at <= stamp)
        elif _RANK[kind] > _RANK[after_kind]:
            query = query.where(model.scanned_at < stamp)
        else:
            query = query.where(
                or_(
                    model.scanned_at < stamp,
                    and_(model.scanned_at == stamp, model.id < after_id),
                )
            )
    rows = await session.scalars(
        query.order_by(model.scanned_at.desc(), model.id.desc()).limit(limit)
    )
    return [_summary(kind, row) for row in rows]


async def item_posters(
    session: AsyncSession, kind: ItemKind, item_ids: Sequence[int]
) -> dict[int, tuple[AssetRecord, ...]]:
    """The poster assets of some items, by item id (items without one are left out)."""
    if not item_ids:
        return {}
    owner = Asset.movie_id if kind is ItemKind.MOVIE else Asset.series_id
    rows = await session.execute(
        select(owner, Asset)
        .where(owner.in_(sorted(set(item_ids))), Asset.kind == "poster")
        .order_by(Asset.id)
    )
    found: dict[int, list[AssetRecord]] = {}
    for item_id, asset in rows:
        if item_id is not None:  # the WHERE clause picks owned rows only
            found.setdefault(item_id, []).append(_asset(asset))
    return {item_id: tuple(assets) for item_id, assets in found.items()}


async def item_detail(session: AsyncSession, kind: ItemKind, item_id: int) -> ItemDetail | None:
    item: Movie | Series | None = await session.get(
        Movie if kind is ItemKind.MOVIE else Series, item_id
    )
    if item is None:
        return None
    owner = MediaFile.movie_id if kind is ItemKind.MOVIE else MediaFile.series_id
    asset_owner = Asset.movie_id if kind is ItemKind.MOVIE else Asset.series_id
    files = await session.scalars(
        select(MediaFile).where(owner == item_id).order_by(MediaFile.path)
    )
    assets = await session.scalars(select(Asset).where(asset_owner == item_id).order_by(Asset.path))
    links = await session.scalars(
        select(JobLink)
        .where(JobLink.item_kind == kind.value, JobLink.item_id == item_id)
        .order_by(JobLink.job_id)
    )
    seasons: tuple[SeasonRecord, ...] = ()
    if kind is ItemKind.SERIES:
        seasons = await _seasons(session, item_id)
    return ItemDetail(
        item=_summary(kind, item),
        files=tuple(FileRecord(f.id, f.path, f.role, f.size, f.mtime_ns, f.details) for f in files),
        assets=tuple(_asset(a) for a in assets),
        jobs=tuple(JobLinkRecord(j.job_id, j.job_type, _utc(j.linked_at)) for j in links),
        issues=tuple(item.issues),
        seasons=seasons,
    )


async def _seasons(session: AsyncSession, series_id: int) -> tuple[SeasonRecord, ...]:
    episodes = await session.execute(
        select(Episode.season_number, Episode.episode_number, Episode.title, MediaFile.path)
        .join(MediaFile, Episode.file_id == MediaFile.id)
        .where(Episode.series_id == series_id)
        .order_by(Episode.season_number, Episode.episode_number)
    )
    by_season: dict[int, list[EpisodeRecord]] = {}
    for season, number, title, path in episodes:
        by_season.setdefault(season, []).append(EpisodeRecord(season, number, title, path))
    seasons = await session.scalars(
        select(Season).where(Season.series_id == series_id).order_by(Season.number)
    )
    return tuple(
        SeasonRecord(season.number, season.folder, tuple(by_season.get(season.number, ())))
        for season in seasons
    )


async def item_refs(
    session: AsyncSession, owners: Sequence[tuple[str, int | None, int | None]]
) -> tuple[ItemRef, ...]:
    """The items owning some files: ``(path, movie_id, series_id)`` -> distinct refs."""
    movie_ids = {movie for _, movie, _ in owners if movie is not None}
    series_ids = {series for _, _, series in owners if series is not None}
    refs: list[ItemRef] = []
    for kind, ids in ((ItemKind.MOVIE, movie_ids), (ItemKind.SERIES, series_ids)):
        if not ids:
            continue
        model = _MODELS[kind]
        rows = await session.execute(
            select(model.id, model.folder).where(model.id.in_(sorted(ids))).order_by(model.id)
        )
        refs += (ItemRef(kind, item_id, folder) for item_id, folder in rows)
    return tuple(refs)


async def scan_runs(session: AsyncSession, limit: int) -> tuple[ScanRunRecord, ...]:
    runs = await session.scalars(
        select(ScanRun).order_by(ScanRun.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    )
    return tuple(
        ScanRunRecord(
            id=run.id,
            kind=run.kind,
            root=run.root,
            folder=run.folder,
            job_id=run.job_id,
            status=ScanStatus(run.status),
            started_at=_utc(run.started_at),
            finished_at=None if run.finished_at is None else _utc(run.finished_at),
            summary=run.summary,
            error=run.error,
        )
        for run in runs
    )


def _asset(a: Asset) -> AssetRecord:
    return AssetRecord(
        a.id,
        a.path,
        a.kind,
        a.scope,
        a.season_number,
        a.video_path,
        a.position,
        a.size,
        a.mtime_ns,
        a.details,
    )


def _summary(kind: ItemKind, row: Any) -> ItemSummary:
    return ItemSummary(
        kind=kind,
        id=row.id,
        root=row.root,
        folder=row.folder,
        title=row.title,
        original_title=row.original_title,
        year=row.year,
        tmdb_id=row.tmdb_id,
        imdb_id=row.imdb_id,
        tvdb_id=getattr(row, "tvdb_id", None),
        created_at=_utc(row.created_at),
        scanned_at=_utc(row.scanned_at),
    )


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "MAX_LIMIT",
    "decode_cursor",
    "decode_recent_cursor",
    "encode_cursor",
    "encode_recent_cursor",
    "item_detail",
    "item_posters",
    "item_refs",
    "list_items",
    "list_recent",
    "scan_runs",
]
