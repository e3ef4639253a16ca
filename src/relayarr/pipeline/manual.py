"""Scans asked for by a person: ``relayarr scan PATH`` and ``POST /api/v1/scan`` (the
folder holding a path), ``relayarr scan --all`` (a reconciliation of every root now).

Both feed the same chain as a webhook: the scan job, then what the players must learn.
Bad input is refused before anything is stored, with an error naming the path:

- no ``[[library.roots]]``: :class:`~relayarr.errors.LibraryNotConfigured`;
- a relative path, or one outside every root once ``..`` and symlinks are resolved:
  :class:`~relayarr.errors.OutsideLibrary` (naming the roots);
- a path that does not exist, or a root itself: :class:`~relayarr.errors.FolderMissing`.

A root whose mount is down is not refused: the scan waits for it like any other (the
answer says what is missing), since the mount may be back in a minute.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from relayarr.errors import FolderMissing, LibraryNotConfigured
from relayarr.jobqueue import Job, JobQueue, JSONObject
from relayarr.library.roots import LibraryRoot, LibraryRoots
from relayarr.pipeline.jobs import ScanReason, ScanRequest
from relayarr.pipeline.reconcile import reconcile_now
from relayarr.pipeline.scan import add_scan

NO_LIBRARY = "no library is configured: add [[library.roots]] to the configuration"


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """The item folder a path leads to, its root, and what is missing while the root's
    mount is down (the scan then waits for it)."""

    folder: Path
    root: LibraryRoot
    unavailable: str | None


@dataclass(frozen=True, slots=True)
class ManualScan:
    """A scan asked for: its job (one already waiting for the folder, if there was one)
    and its target."""

    job: Job
    target: ScanTarget

    def to_json(self) -> JSONObject:
        return {
            "job_id": self.job.id,
            "type": self.job.type,
            "folder": str(self.target.folder),
            "root": str(self.target.root.path),
            "root_unavailable": self.target.unavailable,
        }


def require_roots(roots: LibraryRoots | None) -> LibraryRoots:
    """``roots``, or :class:`LibraryNotConfigured` when there are none."""
    if roots is None or not roots.roots:
        raise LibraryNotConfigured(NO_LIBRARY)
    return roots


def scan_target(roots: LibraryRoots | None, path: str) -> ScanTarget:
    """Where a manual scan of ``path`` (absolute, as relayarr sees it) goes; raises as the
    module docstring says. Blocking: it looks at the disk."""
    located = require_roots(roots).locate(path)
    unavailable = located.root.missing()
    if not located.path.exists():
        why = f" (library root {located.root.path} is unavailable: {unavailable} is missing)"
        raise FolderMissing(f"{path} does not exist{why if unavailable else ''}")
    folder = located.item_folder
    if folder is None:
        raise FolderMissing(
            f"{path} is the library root itself; name a movie or series folder in it, "
            "or use `relayarr scan --all`"
        )
    return ScanTarget(folder, located.root, unavailable)


async def add_manual_scan(queue: JobQueue, target: ScanTarget) -> ManualScan:
    """Enqueue the scan of ``target``, due now."""
    request = ScanRequest(str(target.folder), str(target.root.path), ScanReason.MANUAL)
    job = await add_scan(queue, request, kind=target.root.kind, settle=0.0)
    return ManualScan(job, target)


async def scan_path(queue: JobQueue, roots: LibraryRoots | None, path: str) -> ManualScan:
    """:func:`scan_target` (off the event loop), then :func:`add_manual_scan`."""
    target = await asyncio.to_thread(scan_target, roots, path)
    return await add_manual_scan(queue, target)


async def reconcile_all(queue: JobQueue, roots: LibraryRoots | None) -> Job:
    """Enqueue a reconciliation of every root now (one already waiting is returned)."""
    require_roots(roots)
    return await reconcile_now(queue)


__all__ = [
    "NO_LIBRARY",
    "ManualScan",
    "ScanTarget",
    "add_manual_scan",
    "reconcile_all",
    "require_roots",
    "scan_path",
    "scan_target",
]
