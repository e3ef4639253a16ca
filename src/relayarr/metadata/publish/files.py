"""Files in an item's folder, written atomically and never outside it.

Every write goes to a temporary file in the same folder, is flushed and fsynced, then
renamed over the target with ``os.replace`` (atomic on POSIX and Windows), and the folder
is fsynced so the rename itself survives a power cut. A crash at any moment leaves the
old file or the new one, never a truncated mix; a leftover temporary file is named
``.relayarr-*.tmp`` and removed by the next write that fails or by :meth:`sweep`.

Names are relative to the folder. Absolute names, ``..`` parts, and targets whose real
path (symlinks followed) lies outside the folder are refused with :class:`UnsafePath`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath

from relayarr.errors import PublishError, UnsafePath

TEMP_PREFIX = ".relayarr-"
TEMP_SUFFIX = ".tmp"
FILE_MODE = 0o644  # players on other machines (SMB/NFS shares) must be able to read it

Replace = Callable[[str | os.PathLike[str], str | os.PathLike[str]], None]


class SafeFolder:
    """One item's folder: names inside it, resolved and checked."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            self.real = root.resolve(strict=True)
        except OSError as exc:
            raise PublishError(str(root), f"folder not reachable ({exc.strerror})") from None
        if not self.real.is_dir():
            raise PublishError(str(root), "not a folder")

    def path(self, name: str) -> Path:
        """The path of ``name`` in this folder; :class:`UnsafePath` if it would leave it."""
        pure = PurePath(name)
        if not name or "\x00" in name or pure.is_absolute() or pure.anchor:
            raise UnsafePath(name or "(empty name)", "not a plain name inside the item folder")
        if any(part in ("..", "") for part in pure.parts):
            raise UnsafePath(name, "'..' would leave the item folder")
        target = self.root / pure
        real = target.resolve(strict=False)  # follows every symlink on the way
        if not real.is_relative_to(self.real):
            raise UnsafePath(name, "resolves outside the item folder (symlink?)")
        return target

    def relative(self, path: Path) -> str | None:
        """``path`` as a name in this folder, or None when it is elsewhere."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            try:
                return path.resolve(strict=False).relative_to(self.real).as_posix()
            except ValueError:
                return None

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PublishError(name, f"cannot read ({exc.strerror})") from None

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def write(self, name: str, data: bytes, *, replace: Replace = os.replace) -> None:
        """Write ``data`` to ``name`` atomically (see the module docstring)."""
        target = self.path(name)
        try:
            atomic_write(target, data, replace=replace)
        except OSError as exc:
            raise PublishError(name, f"cannot write ({exc.strerror or exc})") from None

    def move(self, old: str, new: str) -> None:
        """Rename ``old`` to ``new`` inside the folder (atomic, replaces ``new``)."""
        source, target = self.path(old), self.path(new)
        try:
            os.replace(source, target)
        except OSError as exc:
            raise PublishError(old, f"cannot rename to {new} ({exc.strerror})") from None

    def remove(self, name: str) -> bool:
        """Delete ``name``; False when it was not there."""
        target = self.path(name)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise PublishError(name, f"cannot delete ({exc.strerror})") from None
        return True

    def sweep(self) -> int:
        """Remove temporary files a crashed write left behind; returns how many."""
        removed = 0
        for leftover in self.root.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed += 1
        return removed


def atomic_write(target: Path, data: bytes, *, replace: Replace = os.replace) -> None:
    """Write ``data`` to ``target`` through a fsynced temporary file and a rename."""
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = FILE_MODE
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, mode)
        replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    # Some filesystems (network shares, Windows) cannot fsync a directory; the rename is
    # still atomic there, only its durability across a power cut is up to them.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["FILE_MODE", "TEMP_PREFIX", "SafeFolder", "atomic_write"]
