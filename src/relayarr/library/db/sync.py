"""Making an item's stored files, assets, seasons and episodes match a scan, writing
only the difference so unchanged rows keep their ids.

Order matters: new and changed files are written first, then episodes point at them, and
only then are vanished files deleted, so the database's cascade from a deleted file never
takes an episode that has just moved to another file (an upgrade).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relayarr.library.db.models import Asset, Episode, MediaFile, Season
from relayarr.library.db.records import ItemKind
from relayarr.library.db.rows import AssetRow, FileRow, ScanRows

_Owned = TypeVar("_Owned", MediaFile, Asset)


@dataclass(slots=True)
class Changes:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


async def sync_children(
    session: AsyncSession, kind: ItemKind, item_id: int, rows: ScanRows
) -> Changes:
    """Write the difference between what is stored for the item and ``rows``."""
    changes = Changes()
    owner = _owner(kind, item_id)
    file_gone = await _sync_table(session, MediaFile, owner, rows.files, _file_values, changes)
    asset_gone = await _sync_table(session, Asset, owner, rows.assets, _asset_values, changes)
    await session.flush()
    if kind is ItemKind.SERIES:
        await _sync_seasons(session, item_id, rows)
        await _sync_episodes(session, item_id, rows)
        await session.flush()
    for gone in (*file_gone, *asset_gone):
        await session.delete(gone)
    await session.flush()
    return changes


def _owner(kind: ItemKind, item_id: int) -> dict[str, int | None]:
    if kind is ItemKind.MOVIE:
        return {"movie_id": item_id, "series_id": None}
    return {"movie_id": None, "series_id": item_id}


def _file_values(row: FileRow) -> dict[str, Any]:
    return {"role": row.role, "size": row.size, "mtime_ns": row.mtime_ns, "details": row.details}


def _asset_values(row: AssetRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "scope": row.scope,
        "season_number": row.season,
        "video_path": row.video_path,
        "position": row.position,
        "size": row.size,
        "mtime_ns": row.mtime_ns,
        "details": row.details,
    }


async def _sync_table(
    session: AsyncSession,
    model: type[_Owned],
    owner: dict[str, int | None],
    rows: tuple[FileRow, ...] | tuple[AssetRow, ...],
    values_of: Any,
    changes: Changes,
) -> list[_Owned]:
    """Insert and update rows of one table; return the stored rows to delete later."""
    column = model.movie_id if owner["movie_id"] is not None else model.series_id
    item_id = owner["movie_id"] if owner["movie_id"] is not None else owner["series_id"]
    stored = {
        row.path: row for row in (await session.scalars(select(model).where(column == item_id)))
    }
    for row in rows:
        values = values_of(row)
        current = stored.pop(row.path, None)
        if current is None:
            session.add(model(path=row.path, **owner, **values))
            changes.added.append(row.path)
            continue
        differs = {key: value for key, value in values.items() if getattr(current, key) != value}
        if differs:
            for key, value in differs.items():
                setattr(current, key, value)
            changes.changed.append(row.path)
    changes.removed.extend(stored)
    return list(stored.values())


async def _sync_seasons(session: AsyncSession, series_id: int, rows: ScanRows) -> None:
    stored = {
        season.number: season
        for season in await session.scalars(select(Season).where(Season.series_id == series_id))
    }
    for number, folder in rows.seasons:
        current = stored.pop(number, None)
        if current is None:
            session.add(Season(series_id=series_id, number=number, folder=folder))
        elif current.folder != folder:
            current.folder = folder
    for gone in stored.values():
        await session.delete(gone)


async def _sync_episodes(session: AsyncSession, series_id: int, rows: ScanRows) -> None:
    found = await session.execute(
        select(MediaFile.path, MediaFile.id).where(MediaFile.series_id == series_id)
    )
    file_ids: dict[str, int] = dict(found.all())
    stored = {
        (episode.season_number, episode.episode_number): episode
        for episode in await session.scalars(select(Episode).where(Episode.series_id == series_id))
    }
    for row in rows.episodes:
        file_id = file_ids[row.file_path]
        current = stored.pop((row.season, row.episode), None)
        if current is None:
            session.add(
                Episode(
                    series_id=series_id,
                    season_number=row.season,
                    episode_number=row.episode,
                    file_id=file_id,
                    title=row.title,
                )
            )
            continue
        if current.file_id != file_id:
            current.file_id = file_id
        if current.title != row.title:
            current.title = row.title
    for gone in stored.values():
        await session.delete(gone)


__all__ = ["Changes", "sync_children"]
