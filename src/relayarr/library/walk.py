"""Walking an item folder, and the signature that says whether it changed.

The scanner and the reconciler walk folders the same way, through :func:`walk`, so a
folder's signature is the same whichever of them computed it:

- Depth first, on ``os.scandir``, one directory handle open at a time; nothing but the
  current directory's subfolders is held, so memory does not grow with the library.
- Symbolic links to folders are never followed (no loops, no escape from the root); a link
  to a file is followed only when it resolves inside ``confine_to`` (when given).
- Anything that cannot be read (a vanished folder, a dangling link, a link loop) becomes
  an entry with an ``error``, never an exception, except for the walked folder itself.
- Clutter of NAS boxes and desktops (``@eaDir``, ``.DS_Store``, ``._*``) is skipped: it
  changes by itself and says nothing about the media.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

_CLUTTER = frozenset(
    {
        "@eaDir",
        ".@__thumb",
        "#recycle",
        "#snapshot",
        "lost+found",
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        ".Trashes",
        ".fseventsd",
        ".Spotlight-V100",
    }
)


class EntryKind(StrEnum):
    """What a walked name is."""

    FILE = "file"
    DIR = "dir"
    LINKED_DIR = "linked-dir"  # a symlink to a folder: listed, not entered
    SPECIAL = "special"  # a FIFO, socket or device: never opened
    ERROR = "error"  # could not be examined; ``error`` says why


@dataclass(frozen=True, slots=True)
class Entry:
    """One name found under a walked folder; ``relative`` uses ``/`` whatever the system."""

    relative: str
    name: str
    kind: EntryKind
    size: int = 0
    mtime_ns: int = 0
    link: str | None = None  # the target, for a symbolic link
    error: str | None = None

    @property
    def parent(self) -> str:
        """The relative folder holding this entry (``""`` at the top)."""
        head, _, _ = self.relative.rpartition("/")
        return head


def skipped(name: str) -> bool:
    """Whether a name is clutter the walk leaves out."""
    return name in _CLUTTER or name.startswith(("._", ".Trash-"))


def walk(folder: str | os.PathLike[str], confine_to: Iterable[str] = ()) -> Iterator[Entry]:
    """Every name under ``folder``, depth first.

    ``confine_to`` holds real (symlink-free) folders a followed file link must resolve
    into; empty means links to files are followed wherever they lead. Raises ``OSError``
    only when ``folder`` itself cannot be listed.
    """
    top = os.fspath(folder)
    fences = tuple(os.path.join(fence, "") for fence in confine_to)
    pending: list[tuple[str, str]] = [(top, "")]
    first = True
    while pending:
        path, prefix = pending.pop()
        try:
            listing = os.scandir(path)
        except OSError as exc:
            if first:
                raise
            yield Entry(
                prefix.rstrip("/"), os.path.basename(path), EntryKind.ERROR, error=_reason(exc)
            )
            continue
        first = False
        subfolders: list[tuple[str, str]] = []
        with listing:
            for item in listing:
                if skipped(item.name):
                    continue
                entry = _examine(item, prefix + item.name, fences)
                if entry.kind is EntryKind.DIR:
                    subfolders.append((item.path, entry.relative + "/"))
                yield entry
        # Reversed so the stack pops them in listing order.
        pending.extend(reversed(subfolders))


def _examine(item: os.DirEntry[str], relative: str, fences: tuple[str, ...]) -> Entry:
    name = item.name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        # Bytes that are not UTF-8 cannot be stored or sent as JSON; shown with U+FFFD.
        shown = relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return Entry(
            shown,
            os.path.basename(shown),
            EntryKind.ERROR,
            error="the name is not valid UTF-8; rename it",
        )
    try:
        if item.is_symlink():
            return _examine_link(item, relative, fences)
        if item.is_dir(follow_symlinks=False):
            return Entry(relative, name, EntryKind.DIR)
        info = item.stat(follow_symlinks=False)
    except OSError as exc:
        return Entry(relative, name, EntryKind.ERROR, error=_reason(exc))
    kind = EntryKind.FILE if stat.S_ISREG(info.st_mode) else EntryKind.SPECIAL
    return Entry(relative, name, kind, info.st_size, info.st_mtime_ns)


def _examine_link(item: os.DirEntry[str], relative: str, fences: tuple[str, ...]) -> Entry:
    name = item.name
    target = os.readlink(item.path)
    if fences:
        real = os.path.realpath(item.path)
        if not any(os.path.join(real, "").startswith(fence) for fence in fences):
            why = f"symbolic link leads outside the library (to {real})"
            return Entry(relative, name, EntryKind.ERROR, link=target, error=why)
    try:
        info = item.stat(follow_symlinks=True)
    except OSError as exc:
        return Entry(relative, name, EntryKind.ERROR, link=target, error=_reason(exc))
    if stat.S_ISDIR(info.st_mode):
        return Entry(relative, name, EntryKind.LINKED_DIR, link=target)
    kind = EntryKind.FILE if stat.S_ISREG(info.st_mode) else EntryKind.SPECIAL
    return Entry(relative, name, kind, info.st_size, info.st_mtime_ns, link=target)


def _reason(exc: OSError) -> str:
    text = exc.strerror or exc.__class__.__name__
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        return f"{text} (a dangling symbolic link, or removed while scanning)"
    return text


class Signature:
    """A fingerprint of a folder's entries: their names, sizes and modification times.

    Entries are combined by addition, so the result does not depend on the order a file
    system lists them in; the count is folded in so that an added and a removed entry
    with cancelling hashes still differ.
    """

    __slots__ = ("_count", "_total")
    _MODULUS = 1 << 128

    def __init__(self) -> None:
        self._total = 0
        self._count = 0

    def add(self, entry: Entry) -> None:
        if entry.link is not None:
            # A link counts by where it points, not by what is there now: that is what
            # an *arr changes when it re-links, and it stays the same without the target.
            text = f"{entry.relative}\0L\0{entry.link}"
        elif entry.kind is EntryKind.FILE:
            text = f"{entry.relative}\0F\0{entry.size}\0{entry.mtime_ns}"
        else:
            text = f"{entry.relative}\0{entry.kind.value}"
        digest = hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16)
        self._total = (self._total + int.from_bytes(digest.digest(), "big")) % self._MODULUS
        self._count += 1

    def hexdigest(self) -> str:
        return f"{self._total:032x}-{self._count}"


def folder_signature(folder: str | os.PathLike[str], confine_to: Iterable[str] = ()) -> str:
    """The :class:`Signature` of everything under ``folder``, streamed."""
    signature = Signature()
    for entry in walk(folder, confine_to):
        signature.add(entry)
    return signature.hexdigest()


__all__ = ["Entry", "EntryKind", "Signature", "folder_signature", "skipped", "walk"]
