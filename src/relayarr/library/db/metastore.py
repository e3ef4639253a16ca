"""The metadata services' stores, in the library database: the provider response cache,
field locks, written fingerprints, published files, and the provided and published values
of each item.

>>> store = await LibraryStore.open("sqlite:///data/library.db")       # doctest: +SKIP
>>> meta = store.metadata                    # a ResponseCache and a PublishStore
>>> await meta.set_locks(movie_ref(412), FieldLocks(frozenset({"title"}), {"title": "X"}))

Items are named as the publisher names them (:data:`~relayarr.metadata.ItemRef`):
``movie:412``, ``series:87``, ``episode:87:2:3`` (series 87, season 2, episode 3). Every
row belongs to its movie or series, and goes with it when the *arr deletes the item.
Database failures are :class:`~relayarr.errors.LibraryStoreError`, as for the rest of the
library store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relayarr.jobqueue.models import JSONObject
from relayarr.library.db.models import ItemMetadata, ProviderCache, PublishedFile
from relayarr.metadata.codec import fields_to_json, metadata_from_json, metadata_to_json
from relayarr.metadata.fields import FieldValue, from_json
from relayarr.metadata.merge import FieldLocks
from relayarr.metadata.models import AnyMetadata
from relayarr.metadata.stores import AssetRecord, ItemRef

log = logging.getLogger(__name__)

Sessions = Callable[[str], AbstractAsyncContextManager[AsyncSession]]
"""``sessions("operation")``: one transaction, its failures named after the operation."""

M = TypeVar("M", bound=AnyMetadata)


def movie_ref(movie_id: int) -> ItemRef:
    return ItemRef(f"movie:{movie_id}")


def series_ref(series_id: int) -> ItemRef:
    return ItemRef(f"series:{series_id}")


def episode_ref(series_id: int, season: int, episode: int) -> ItemRef:
    return ItemRef(f"episode:{series_id}:{season}:{episode}")


def owner_of(item: ItemRef) -> dict[str, int | None]:
    """The movie or series an item belongs to, as column values; ValueError for a
    reference this module did not make."""
    kind, _, rest = item.partition(":")
    head = rest.split(":", 1)[0]
    if not head.isdigit():
        raise ValueError(f"not an item reference: {item!r}")
    if kind == "movie" and rest.isdigit():
        return {"movie_id": int(head), "series_id": None}
    if kind in ("series", "episode"):
        return {"movie_id": None, "series_id": int(head)}
    raise ValueError(f"not an item reference: {item!r}")


@dataclass(frozen=True, slots=True)
class ItemState:
    """What the API shows of an item's metadata: its locks, the values last published
    (JSON, None before the first publish) and when it was last enriched and published."""

    locks: FieldLocks
    published: JSONObject | None
    provided_at: datetime | None
    published_at: datetime | None


class MetadataStore:
    """A :class:`~relayarr.metadata.ResponseCache` and a
    :class:`~relayarr.metadata.PublishStore` over the library database's sessions."""

    def __init__(
        self,
        write: Sessions,
        read: Sessions,
        dialect: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._write = write
        self._read = read
        self._insert = postgres_insert if dialect == "postgresql" else sqlite_insert
        self._clock = clock

    # -- ResponseCache ----------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        async with self._read("read provider cache") as session:
            row = (
                await session.execute(
                    select(ProviderCache.body, ProviderCache.expires_at).where(
                        ProviderCache.key == key
                    )
                )
            ).first()
        if row is None or row.expires_at <= self._now():
            return None
        return bytes(row.body)

    async def put(self, key: str, body: bytes, ttl: float) -> None:
        if ttl <= 0:
            return
        now = self._now()
        async with self._write("write provider cache") as session:
            # Expired answers go as new ones come: the table holds what is still usable.
            await session.execute(delete(ProviderCache).where(ProviderCache.expires_at <= now))
            statement = self._insert(ProviderCache).values(key=key, body=body, expires_at=now + ttl)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"],
                    set_={"body": statement.excluded.body, "expires_at": now + ttl},
                )
            )

    # -- LockStore ---------------------------------------------------------------------------

    async def get_locks(self, item: ItemRef) -> FieldLocks:
        row = await self._row(item, "read locks")
        return FieldLocks() if row is None else _locks(item, row)

    async def set_locks(self, item: ItemRef, locks: FieldLocks) -> None:
        await self._upsert(
            item,
            "write locks",
            locked=sorted(locks.fields),
            locked_values=dict(fields_to_json(locks.values)),
        )

    # -- WrittenStore ------------------------------------------------------------------------

    async def get_written(self, item: ItemRef) -> Mapping[str, str] | None:
        row = await self._row(item, "read written fields")
        if row is None or row.written is None:
            return None
        return {str(k): str(v) for k, v in row.written.items()}

    async def set_written(self, item: ItemRef, fingerprints: Mapping[str, str]) -> None:
        await self._upsert(item, "write written fields", written=dict(fingerprints))

    # -- provided and published values -------------------------------------------------------

    async def get_provided(self, item: ItemRef, kind: type[M]) -> M | None:
        """The providers' metadata from the item's last enrichment, or None."""
        row = await self._row(item, "read provided metadata")
        if row is None or row.provided is None:
            return None
        try:
            return metadata_from_json(kind, row.provided)
        except ValueError as exc:
            # Written by an older relayarr in another shape: enrich again rather than fail.
            log.warning(
                "stored provider metadata unreadable",
                extra={"service": "metadata", "item": item, "error": str(exc)},
            )
            return None

    async def set_provided(self, item: ItemRef, meta: AnyMetadata) -> None:
        await self._upsert(
            item,
            "write provided metadata",
            provided=dict(metadata_to_json(meta)),
            provided_at=self._clock(),
        )

    async def set_published(self, item: ItemRef, meta: AnyMetadata) -> None:
        """Remember the values a publish wrote (artwork candidates left out)."""
        values = dict(metadata_to_json(meta))
        values.pop("artwork", None)
        await self._upsert(
            item, "write published metadata", published=values, published_at=self._clock()
        )

    async def state(self, item: ItemRef) -> ItemState:
        row = await self._row(item, "read item metadata")
        if row is None:
            return ItemState(FieldLocks(), None, None, None)
        return ItemState(
            _locks(item, row), row.published, _utc(row.provided_at), _utc(row.published_at)
        )

    # -- AssetStore --------------------------------------------------------------------------

    async def assets(self, item: ItemRef) -> Sequence[AssetRecord]:
        async with self._read("read published files") as session:
            rows = await session.scalars(
                select(PublishedFile).where(PublishedFile.item == item).order_by(PublishedFile.name)
            )
            return [
                AssetRecord(
                    ItemRef(row.item),
                    row.folder,
                    row.name,
                    row.role,
                    row.sha256,
                    row.size,
                    row.source,
                    row.written_at,
                )
                for row in rows
            ]

    async def put_asset(self, record: AssetRecord) -> None:
        values: dict[str, Any] = {
            "folder": record.folder,
            "role": record.role,
            "sha256": record.sha256,
            "size": record.size,
            "source": record.source,
            "written_at": record.written_at,
        }
        async with self._write("record published file") as session:
            statement = self._insert(PublishedFile).values(
                item=record.item, name=record.name, **owner_of(record.item), **values
            )
            await session.execute(
                statement.on_conflict_do_update(index_elements=["item", "name"], set_=values)
            )

    async def drop_asset(self, item: ItemRef, name: str) -> None:
        async with self._write("forget published file") as session:
            await session.execute(
                delete(PublishedFile).where(PublishedFile.item == item, PublishedFile.name == name)
            )

    # -- rows --------------------------------------------------------------------------------

    async def _row(self, item: ItemRef, operation: str) -> ItemMetadata | None:
        async with self._read(operation) as session:
            found: ItemMetadata | None = await session.scalar(
                select(ItemMetadata).where(ItemMetadata.item == item)
            )
            return found

    async def _upsert(self, item: ItemRef, operation: str, **values: Any) -> None:
        fresh: dict[str, Any] = {"locked": [], "locked_values": {}, **values}
        async with self._write(operation) as session:
            statement = self._insert(ItemMetadata).values(item=item, **owner_of(item), **fresh)
            await session.execute(
                statement.on_conflict_do_update(index_elements=["item"], set_=values)
            )

    def _now(self) -> float:
        return self._clock().timestamp()


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _locks(item: ItemRef, row: ItemMetadata) -> FieldLocks:
    values: dict[str, FieldValue] = {}
    for name, data in (row.locked_values or {}).items():
        try:
            values[name] = from_json(name, data)
        except ValueError as exc:
            # The lock stays (the NFO's value is kept); only the stored value is lost.
            log.warning(
                "stored locked value unreadable",
                extra={"service": "metadata", "item": item, "field": name, "error": str(exc)},
            )
    return FieldLocks(frozenset(str(name) for name in row.locked or ()), values)


__all__ = [
    "ItemState",
    "MetadataStore",
    "Sessions",
    "episode_ref",
    "movie_ref",
    "owner_of",
    "series_ref",
]
