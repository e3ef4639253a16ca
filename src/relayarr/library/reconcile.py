"""Reconciliation: which item folders of a root are new, changed or gone since they were
last scanned, so a webhook lost while relayarr was down is still caught up.

>>> reconciler = Reconciler(store)                                   # doctest: +SKIP
>>> async for change in reconciler.changes(root):
...     print(change.kind, change.folder)
changed /srv/media/movies/Arrival (2016)

Memory stays flat however large the library: item folders are taken from ``os.scandir``
a batch at a time, each signature is streamed (:func:`~relayarr.library.walk.folder_signature`),
the stored signatures of a batch are looked up together, and removals are found by
streaming the stored folders and checking that each still exists. No list of the library's
folders or files is ever held.

A root whose folder or anchor is missing is never reconciled: that would report every
item as removed while a mount is down. Availability is checked before the pass and again
before removals are reported; :class:`~relayarr.errors.RootUnavailable` is raised instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import Protocol

from relayarr.errors import RootUnavailable
from relayarr.library.jsontypes import JSONObject
from relayarr.library.roots import LibraryRoot
from relayarr.library.walk import folder_signature, skipped

log = logging.getLogger(__name__)

BATCH = 256


class ChangeKind(StrEnum):
    NEW = "new"  # a folder never scanned
    CHANGED = "changed"  # its signature differs from the stored one
    REMOVED = "removed"  # stored, but no longer on disk


@dataclass(frozen=True, slots=True)
class FolderChange:
    """An item folder to scan again (``new``, ``changed``) or to forget (``removed``)."""

    kind: ChangeKind
    root: LibraryRoot
    folder: str
    signature: str | None  # what the folder is now; None once removed

    def to_json(self) -> JSONObject:
        return {"kind": self.kind.value, "root": str(self.root.path), "folder": self.folder}


@dataclass(slots=True)
class ReconcileStats:
    """What one pass saw: folders examined, and how many of each change."""

    folders: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    unreadable: int = 0

    def count(self, change: FolderChange) -> None:
        setattr(self, change.kind.value, getattr(self, change.kind.value) + 1)

    def to_json(self) -> JSONObject:
        return {
            "folders": self.folders,
            "new": self.new,
            "changed": self.changed,
            "removed": self.removed,
            "unreadable": self.unreadable,
        }


class SignatureSource(Protocol):
    """What reconciliation reads of the library database (:class:`LibraryStore` has it)."""

    async def signatures_for(self, root: LibraryRoot, folders: Sequence[str]) -> dict[str, str]:
        """The stored signatures of these folders (absent: never scanned)."""
        ...

    def folder_signatures(self, root: LibraryRoot, batch: int) -> AsyncIterator[tuple[str, str]]:
        """Every stored ``(folder, signature)`` of the root, fetched ``batch`` at a time."""
        ...


Progress = Callable[[ReconcileStats], None]


class Reconciler:
    """Compares the item folders on disk with their stored signatures, a root at a time."""

    def __init__(self, stored: SignatureSource, *, batch: int = BATCH) -> None:
        self._stored = stored
        self._batch = batch

    async def changes(
        self, root: LibraryRoot, progress: Progress | None = None
    ) -> AsyncIterator[FolderChange]:
        """The root's new, changed and removed item folders, as they are found.

        ``progress`` is called with the running counts after every batch. Raises
        :class:`~relayarr.errors.RootUnavailable` when the root is unavailable at the start
        or before removals are reported.
        """
        stats = ReconcileStats()
        started = time.perf_counter()
        _require(root)
        folders = _item_folders(str(root.path))
        while True:
            measured = await asyncio.to_thread(self._measure, folders, stats)
            if not measured:
                break
            stored = await self._stored.signatures_for(root, [folder for folder, _ in measured])
            for folder, signature in measured:
                known = stored.get(folder)
                if known == signature:
                    continue
                kind = ChangeKind.NEW if known is None else ChangeKind.CHANGED
                change = FolderChange(kind, root, folder, signature)
                stats.count(change)
                yield change
            # The thread's future keeps its result until the cycle collector frees it;
            # emptied now, a batch's paths never outlive the batch.
            measured.clear()
            stored.clear()
            if progress is not None:
                progress(stats)
        _require(root)
        async for change in self._removals(root, stats):
            stats.count(change)
            yield change
        if progress is not None:
            progress(stats)
        log.info(
            "library root reconciled",
            extra={
                "service": "reconcile",
                "root": str(root.path),
                **stats.to_json(),
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )

    def _measure(self, folders: Iterator[str], stats: ReconcileStats) -> list[tuple[str, str]]:
        """The next batch of item folders with their signatures (in a worker thread)."""
        measured = []
        for folder in islice(folders, self._batch):
            try:
                measured.append((folder, folder_signature(folder)))
            except OSError as exc:
                # Gone or unlistable since it was listed: the next pass sees what it became.
                stats.unreadable += 1
                log.warning(
                    "library folder unreadable",
                    extra={"service": "reconcile", "folder": folder, "error": exc.strerror},
                )
        stats.folders += len(measured)
        return measured

    async def _removals(
        self, root: LibraryRoot, stats: ReconcileStats
    ) -> AsyncIterator[FolderChange]:
        batch: list[str] = []
        async for folder, _ in self._stored.folder_signatures(root, self._batch):
            batch.append(folder)
            if len(batch) >= self._batch:
                for gone in await asyncio.to_thread(_vanished, batch):
                    yield FolderChange(ChangeKind.REMOVED, root, gone, None)
                batch.clear()  # in place, as above
                _require(root)
        for gone in await asyncio.to_thread(_vanished, batch):
            yield FolderChange(ChangeKind.REMOVED, root, gone, None)


def _require(root: LibraryRoot) -> None:
    missing = root.missing()
    if missing is not None:
        raise RootUnavailable(str(root.path), missing)


def _item_folders(root: str) -> Iterator[str]:
    """The root's direct subfolders, streamed; hidden ones and NAS clutter skipped, and
    symbolic links not followed (as the scanner does not follow them)."""
    with os.scandir(root) as listing:
        for entry in listing:
            if entry.name.startswith(".") or skipped(entry.name):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield entry.path
            except OSError:
                continue


def count_item_folders(root: LibraryRoot) -> int:
    """How many item folders the root holds now (what a pass will examine), for progress;
    blocking file-system work. 0 when the root cannot be listed."""
    try:
        return sum(1 for _ in _item_folders(str(root.path)))
    except OSError:
        return 0


def _vanished(folders: list[str]) -> list[str]:
    """The folders that no longer exist as folders. Any other error (EIO, a stale NFS
    handle) is no proof of absence, so it does not count as removed."""
    gone = []
    for folder in folders:
        try:
            info = os.lstat(folder)
        except (FileNotFoundError, NotADirectoryError):
            gone.append(folder)
        except OSError as exc:
            log.warning(
                "library folder not checked",
                extra={"service": "reconcile", "folder": folder, "error": exc.strerror},
            )
        else:
            if not stat.S_ISDIR(info.st_mode):
                gone.append(folder)  # replaced by a file or a link: no longer an item
    return gone


__all__ = [
    "BATCH",
    "ChangeKind",
    "FolderChange",
    "ReconcileStats",
    "Reconciler",
    "SignatureSource",
    "count_item_folders",
]
