"""Library roots and the safety rules around them: nothing outside a root is scanned or
written, and nothing is done for a root whose mount is down.

>>> roots = LibraryRoots([LibraryRoot(Path("/srv/media/movies"), RootKind.MOVIES)])
>>> roots.locate("/srv/media/movies/Arrival (2016)/Arrival.mkv").item_folder
PosixPath('/srv/media/movies/Arrival (2016)')

Every item (a movie, a series) is a folder directly inside its root, as Radarr's and
Sonarr's root folders lay them out; :attr:`Located.item_folder` is how a file, a season
folder or an extras folder leads to the folder a scan takes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from relayarr.errors import OutsideLibrary, RootUnavailable
from relayarr.library.jsontypes import JSONObject

log = logging.getLogger(__name__)


class RootKind(StrEnum):
    """What a root holds: one folder per movie, or one per series."""

    MOVIES = "movies"
    SERIES = "series"


@dataclass(frozen=True, slots=True)
class LibraryRoot:
    """A configured root: an absolute folder of item folders, and its anchor files (names
    relative to it that exist only while its mount is up)."""

    path: Path
    kind: RootKind
    anchors: tuple[str, ...] = ()

    def missing(self) -> str | None:
        """What shows the root unavailable right now (its folder, or an anchor file), or
        ``None`` when it is there."""
        if not self.path.is_dir():
            return str(self.path)
        for anchor in self.anchors:
            candidate = self.path / anchor
            if not candidate.exists():
                return str(candidate)
        return None


@dataclass(frozen=True, slots=True)
class Located:
    """A path found inside a root: the root, the path with ``..`` and symlinks resolved,
    and the path relative to the root."""

    root: LibraryRoot
    path: Path
    relative: PurePosixPath

    @property
    def item_folder(self) -> Path | None:
        """The movie or series folder holding the path (the root's direct child), or
        ``None`` for the root itself."""
        if not self.relative.parts:
            return None
        return self.root.path / self.relative.parts[0]


@dataclass(frozen=True, slots=True)
class RootStatus:
    """One root's health: available, or what is missing."""

    root: LibraryRoot
    missing: str | None

    @property
    def available(self) -> bool:
        return self.missing is None

    def to_json(self) -> JSONObject:
        return {
            "path": str(self.root.path),
            "kind": self.root.kind.value,
            "available": self.available,
            "missing": self.missing,
        }


class LibraryRoots:
    """The configured roots: which one holds a path, and whether each is mounted."""

    def __init__(self, roots: Iterable[LibraryRoot]) -> None:
        self._roots = tuple(roots)
        # Roots are compared by their real location, so a root that is itself a symlink
        # (/srv/media -> /mnt/nas) still holds the paths under it.
        self._real = tuple((root, Path(os.path.realpath(root.path))) for root in self._roots)

    @property
    def roots(self) -> tuple[LibraryRoot, ...]:
        return self._roots

    def locate(self, path: str | os.PathLike[str]) -> Located:
        """The root holding ``path`` once ``..`` and symlinks are resolved.

        Raises :class:`~relayarr.errors.OutsideLibrary` for a relative path, or one that
        resolves outside every root (a symlink leading out of a root included). The path
        need not exist: a deleted file is located by the folders that remain.
        """
        text = os.fspath(path)
        if not os.path.isabs(text):
            raise OutsideLibrary(f"{text!r} is not an absolute path; {self._named()}")
        if "\x00" in text:
            raise OutsideLibrary(f"{text!r} contains a NUL character; {self._named()}")
        real = Path(os.path.realpath(text))
        for root, real_root in self._real:
            if real == real_root or real.is_relative_to(real_root):
                relative = PurePosixPath(*real.relative_to(real_root).parts)
                return Located(root=root, path=root.path.joinpath(relative), relative=relative)
        shown = text if str(real) == text else f"{text} (resolves to {real})"
        raise OutsideLibrary(f"{shown} is outside every library root; {self._named()}")

    def require_mounted(self, root: LibraryRoot) -> None:
        """Raise :class:`~relayarr.errors.RootUnavailable` (naming the root and what is
        missing) while the root's folder or one of its anchors is missing."""
        missing = root.missing()
        if missing is not None:
            log.warning(
                "library root unavailable", extra={"root": str(root.path), "missing": missing}
            )
            raise RootUnavailable(str(root.path), missing)

    def status(self) -> tuple[RootStatus, ...]:
        """Every root's availability, for the health endpoint."""
        return tuple(RootStatus(root, root.missing()) for root in self._roots)

    def _named(self) -> str:
        if not self._roots:
            return "no library roots are configured"
        return "roots: " + ", ".join(str(root.path) for root in self._roots)


__all__ = ["LibraryRoot", "LibraryRoots", "Located", "RootKind", "RootStatus"]
