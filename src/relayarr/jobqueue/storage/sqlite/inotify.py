"""Linux inotify through libc (ctypes): just enough to hear that a file was written.

Two calls, ``inotify_init1`` and ``inotify_add_watch`` (closing the descriptor drops every
watch); events are read from the descriptor with :func:`os.read` (non-blocking), so an
event loop can watch it with ``add_reader``. :func:`supported` says whether this platform
has them at all; opening can still fail at run time (the per-user limits
``fs.inotify.max_user_instances`` and ``max_user_watches``), with an OSError that says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
import sys
from dataclasses import dataclass
from functools import cache

IN_MODIFY = 0x00000002
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000

_HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name
_READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Event:
    """One inotify event: the watch it came from, what happened, and (for a directory
    watch) the name of the entry it happened to."""

    wd: int
    mask: int
    name: str


@cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        for name in ("inotify_init1", "inotify_add_watch"):
            getattr(libc, name)
    except (OSError, AttributeError):
        return None
    libc.inotify_init1.argtypes = [ctypes.c_int]
    libc.inotify_init1.restype = ctypes.c_int
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    libc.inotify_add_watch.restype = ctypes.c_int
    return libc


def supported() -> bool:
    """Whether this platform offers inotify (Linux with a libc that exports it)."""
    return _libc() is not None


def _error(call: str, path: str | None = None) -> OSError:
    code = ctypes.get_errno()
    message = os.strerror(code)
    if call == "inotify_init1" and code == errno.EMFILE:
        message += " (the per-user limit fs.inotify.max_user_instances is reached)"
    elif call == "inotify_add_watch" and code == errno.ENOSPC:
        message += " (the per-user limit fs.inotify.max_user_watches is reached)"
    return OSError(code, f"{call}: {message}", path)


class Inotify:
    """One inotify instance: a non-blocking descriptor and its watches."""

    def __init__(self) -> None:
        libc = _libc()
        if libc is None:
            raise OSError(errno.ENOSYS, "inotify is not available on this platform")
        self._libc = libc
        fd: int = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise _error("inotify_init1")
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def add_watch(self, path: str, mask: int) -> int:
        """Watch ``path`` for the events in ``mask``; returns the watch descriptor (the same
        one again for a file already watched). Raises OSError (ENOENT when it is gone)."""
        wd: int = self._libc.inotify_add_watch(self._fd, os.fsencode(path), mask)
        if wd < 0:
            raise _error("inotify_add_watch", path)
        return wd

    def read(self) -> list[Event]:
        """Every event queued now (none when there are none: the descriptor never blocks)."""
        events: list[Event] = []
        while True:
            try:
                data = os.read(self._fd, _READ_SIZE)
            except BlockingIOError:
                return events
            offset = 0
            while offset + _HEADER.size <= len(data):
                wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
                start = offset + _HEADER.size
                raw = data[start : start + length].split(b"\0", 1)[0]
                events.append(Event(wd, mask, os.fsdecode(raw)))
                offset = start + length

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
