"""What the metadata services keep between runs, as Protocols, with in-memory versions.

The library database implements these for real (see ``docs/metadata.md``); the
in-memory ones here serve the tests and a process that wants no persistence.

- :class:`ResponseCache`: provider answers by request, with a time to live.
- :class:`LockStore`: the locked fields of each item, and the values the user gave.
- :class:`WrittenStore`: fingerprints of the fields relayarr last wrote to each item's NFO,
  so a hand edit can be told from relayarr's own writing.
- :class:`AssetStore`: which published file (NFO or image) of which item has which
  content hash, so a file an *arr deleted can be restored from the protected copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NewType, Protocol

from relayarr.jobqueue.clock import Clock, SystemClock
from relayarr.metadata.merge import FieldLocks

ItemRef = NewType("ItemRef", str)
"""Who a published file belongs to, chosen by the caller: ``movie:412``,
``series:87``, ``episode:5012`` (the library database's ids)."""


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """One published file: ``name`` is relative to the item's ``folder``; ``role`` is
    ``nfo`` or the artwork type; ``source`` the URL an image came from (``""`` for an NFO)."""

    item: ItemRef
    folder: str
    name: str
    role: str
    sha256: str
    size: int
    source: str = ""
    written_at: float = 0.0


class ResponseCache(Protocol):
    """Provider answers by key (provider, path and parameters, never the API key)."""

    async def get(self, key: str) -> bytes | None:
        """The answer stored under ``key`` if it has not expired, else None."""
        ...

    async def put(self, key: str, body: bytes, ttl: float) -> None:
        """Store ``body`` under ``key`` for ``ttl`` seconds (replacing any earlier one)."""
        ...


class LockStore(Protocol):
    async def get_locks(self, item: ItemRef) -> FieldLocks:
        """The item's locks (no locks: an empty :class:`FieldLocks`)."""
        ...

    async def set_locks(self, item: ItemRef, locks: FieldLocks) -> None:
        """Replace the item's locks and locked values."""
        ...


class WrittenStore(Protocol):
    async def get_written(self, item: ItemRef) -> Mapping[str, str] | None:
        """Field -> fingerprint of the item's NFO as relayarr last wrote it, or None."""
        ...

    async def set_written(self, item: ItemRef, fingerprints: Mapping[str, str]) -> None: ...


class AssetStore(Protocol):
    async def assets(self, item: ItemRef) -> Sequence[AssetRecord]:
        """Every file recorded for the item."""
        ...

    async def put_asset(self, record: AssetRecord) -> None:
        """Insert or replace the record of ``(record.item, record.name)``."""
        ...

    async def drop_asset(self, item: ItemRef, name: str) -> None:
        """Forget the record of ``(item, name)``; nothing recorded is fine."""
        ...


class PublishStore(LockStore, WrittenStore, AssetStore, Protocol):
    """Everything the publisher keeps: one database-backed class provides all three."""


class MemoryResponseCache:
    """A :class:`ResponseCache` in a dict; expiry by the injected clock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._entries: dict[str, tuple[float, bytes]] = {}

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, body = entry
        if self._clock.now() >= expires:
            del self._entries[key]
            return None
        return body

    async def put(self, key: str, body: bytes, ttl: float) -> None:
        self._entries[key] = (self._clock.now() + ttl, body)


class MemoryPublishStore:
    """A :class:`PublishStore` in dicts."""

    def __init__(self) -> None:
        self.locks: dict[ItemRef, FieldLocks] = {}
        self.written: dict[ItemRef, dict[str, str]] = {}
        self.records: dict[tuple[ItemRef, str], AssetRecord] = {}

    async def get_locks(self, item: ItemRef) -> FieldLocks:
        return self.locks.get(item, FieldLocks())

    async def set_locks(self, item: ItemRef, locks: FieldLocks) -> None:
        self.locks[item] = FieldLocks(locks.fields, dict(locks.values))

    async def get_written(self, item: ItemRef) -> Mapping[str, str] | None:
        found = self.written.get(item)
        return dict(found) if found is not None else None

    async def set_written(self, item: ItemRef, fingerprints: Mapping[str, str]) -> None:
        self.written[item] = dict(fingerprints)

    async def assets(self, item: ItemRef) -> Sequence[AssetRecord]:
        return [r for (owner, _), r in sorted(self.records.items()) if owner == item]

    async def put_asset(self, record: AssetRecord) -> None:
        self.records[(record.item, record.name)] = replace(record)

    async def drop_asset(self, item: ItemRef, name: str) -> None:
        self.records.pop((item, name), None)


__all__ = [
    "AssetRecord",
    "AssetStore",
    "ItemRef",
    "LockStore",
    "MemoryPublishStore",
    "MemoryResponseCache",
    "PublishStore",
    "ResponseCache",
    "WrittenStore",
]
