"""One walk of an item folder, sorted into what the scanners need: files grouped by the
folder holding them, the problems found on the way, and the folder's signature.

Also the one place that opens a file the scanner reads (an NFO): never a FIFO or device
(it would block), never more than :data:`~relayarr.library.nfo.MAX_NFO_BYTES`.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from relayarr.errors import FolderMissing
from relayarr.library.nfo import MAX_NFO_BYTES, NfoError, parse_nfo
from relayarr.library.results import MediaFile, NfoFile, ScanIssue
from relayarr.library.walk import EntryKind, Signature, walk

_KIND_PROBLEMS = {
    EntryKind.SPECIAL: "not a regular file (a FIFO, socket or device); not read",
    EntryKind.LINKED_DIR: "a symbolic link to a folder; not followed",
}


@dataclass(slots=True)
class Listing:
    """An item folder's files by relative parent folder (``""`` for the top), its
    subfolders, its problems and its signature."""

    folder: str
    files: dict[str, list[MediaFile]] = field(default_factory=lambda: defaultdict(list))
    folders: list[str] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)
    signature: str = ""


def list_folder(folder: str, confine_to: Iterable[str]) -> Listing:
    """Walk ``folder`` once. Raises :class:`~relayarr.errors.FolderMissing` when it does not
    exist or is not a folder; anything unreadable below it becomes an issue."""
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.lexists(folder) else "does not exist"
        raise FolderMissing(f"cannot scan {folder}: it {what}")
    listing = Listing(folder)
    signature = Signature()
    try:
        for entry in walk(folder, confine_to):
            signature.add(entry)
            if entry.kind is EntryKind.FILE:
                listing.files[entry.parent].append(
                    MediaFile(entry.relative, entry.size, entry.mtime_ns)
                )
            elif entry.kind is EntryKind.DIR:
                listing.folders.append(entry.relative)
            else:
                problem = entry.error or _KIND_PROBLEMS[entry.kind]
                listing.issues.append(ScanIssue(entry.relative, problem))
    except OSError as exc:
        # The folder itself: it vanished, or cannot be listed. The result says so.
        listing.issues.append(ScanIssue("", f"cannot list the folder: {exc.strerror}"))
    listing.signature = signature.hexdigest()
    # Listing order is the file system's; results are sorted so a rescan reads the same.
    for files in listing.files.values():
        files.sort(key=lambda file: file.path)
    listing.folders.sort()
    listing.issues.sort(key=lambda issue: issue.path)
    return listing


def read_nfo(folder: str, file: MediaFile) -> tuple[NfoFile, ScanIssue | None]:
    """Read and parse one NFO; a failure is the NFO's error and an issue, never raised."""
    try:
        data = _read_regular(os.path.join(folder, file.path))
        info = parse_nfo(data)
    except OSError as exc:
        problem = f"cannot read the NFO: {exc.strerror or exc}"
    except NfoError as exc:
        problem = f"corrupt NFO: {exc}"
    else:
        return NfoFile(file, info), None
    return NfoFile(file, None, problem), ScanIssue(file.path, problem)


def _read_regular(path: str) -> bytes:
    # O_NONBLOCK: if the name was swapped for a FIFO since the walk, opening must not hang;
    # fstat then refuses it. O_NOCTTY for the same reason with a terminal device.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file")
        if info.st_size > MAX_NFO_BYTES:
            raise OSError(0, f"larger than {MAX_NFO_BYTES // (1024 * 1024)} MiB")
        return handle.read(MAX_NFO_BYTES + 1)


__all__ = ["Listing", "list_folder", "read_nfo"]
