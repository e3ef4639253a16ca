"""Opening SQLite connections the way the engine needs them, and translating its errors."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from relayarr.jobqueue.errors import (
    InvalidURL,
    StorageBusy,
    StorageError,
    StorageUnavailable,
)

SYNCHRONOUS = ("normal", "full")


@dataclass(frozen=True, slots=True)
class SQLiteOptions:
    """What a ``sqlite:///path?synchronous=full&busy_timeout=10`` URL asks for.

    ``event_retention``: how many of the newest events the shared event log keeps.
    ``synchronous=normal`` (default, WAL): a crashed process loses nothing committed; a power
    loss may lose the last commits. ``full``: every commit is fsynced (commits then run on a
    writer thread so the event loop never waits on the disk).
    """

    path: Path
    synchronous: str = "normal"
    busy_timeout: float = 10.0  # seconds a write waits for another process's lock
    threaded_writes: bool = False
    event_retention: int = 100_000  # newest events the shared event log keeps

    @classmethod
    def from_url(cls, url: str) -> SQLiteOptions:
        parts = urlsplit(url)
        if parts.scheme != "sqlite":
            raise InvalidURL(f"not a sqlite URL: {parts.scheme}://")
        if parts.netloc:
            raise InvalidURL(
                "sqlite URLs have no host: use sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db"
            )
        # SQLAlchemy's convention: sqlite:///rel.db is relative, sqlite:////abs.db absolute.
        raw = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not raw or raw == ":memory:":
            raise InvalidURL(
                "the sqlite engine needs a file path (sqlite:///data/queue.db); "
                "in-memory databases cannot be shared between its connections"
            )
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        synchronous = options.pop("synchronous", "normal").lower()
        if synchronous not in SYNCHRONOUS:
            raise InvalidURL(f"synchronous must be one of {SYNCHRONOUS}, got {synchronous!r}")
        try:
            busy = float(options.pop("busy_timeout", "10"))
        except ValueError as exc:
            raise InvalidURL("busy_timeout must be a number of seconds") from exc
        if busy < 0:
            raise InvalidURL("busy_timeout must be >= 0")
        writes = options.pop("writes", "thread" if synchronous == "full" else "inline").lower()
        if writes not in ("inline", "thread"):
            raise InvalidURL("writes must be 'inline' or 'thread'")
        try:
            retention = int(options.pop("event_retention", "100000"))
        except ValueError as exc:
            raise InvalidURL("event_retention must be a whole number of events") from exc
        if retention < 1:
            raise InvalidURL("event_retention must be >= 1")
        if options:
            raise InvalidURL(f"unknown sqlite URL options: {', '.join(sorted(options))}")
        return cls(Path(raw), synchronous, busy, writes == "thread", retention)


# Page cache of the writing connection. SQLite's default (2 MiB) is too small for the
# b-trees a completion writes once history is large, so completions would slow down as
# history grows. Pages are cached as read, so a small database never uses it all. Readers
# keep the default.
WRITER_CACHE_KIB = 65536
READER_CACHE_KIB = 2000


def connect(
    options: SQLiteOptions, *, create: bool, cache_kib: int = READER_CACHE_KIB
) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves), WAL, no auto-checkpoint.

    Auto-checkpoints are off because they would run (and fsync) inside whichever commit
    crosses the threshold, on the event loop; the engine checkpoints on its own thread.
    """
    path = options.path
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot create the directory for the database: {exc.strerror}", where=str(path)
            ) from exc
    elif not path.exists():
        raise StorageUnavailable(
            "database file does not exist (run `relayarr migrate` to create it)", where=str(path)
        )
    mode = "rwc" if create else "rw"
    uri = f"file:{quote(str(path.absolute()))}?mode={mode}"
    try:
        conn = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, cached_statements=128
        )
    except sqlite3.Error as exc:
        raise _explain(exc, path) from exc
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        mode_row = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode_row is None or str(mode_row[0]).lower() != "wal":
            raise StorageUnavailable(
                f"cannot switch the database to WAL mode (got {mode_row!r})", where=str(path)
            )
        conn.execute(f"PRAGMA synchronous = {options.synchronous.upper()}")  # from a fixed set
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("PRAGMA journal_size_limit = 67108864")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA cache_size = {-int(cache_kib)}")
    except sqlite3.Error as exc:
        conn.close()
        raise _explain(exc, path) from exc
    except StorageError:
        conn.close()
        raise
    return conn


def _explain(exc: sqlite3.Error, path: Path) -> StorageError:
    """translate(), but tell a read-only file or directory apart from a missing one."""
    error = translate(exc, str(path))
    if isinstance(error, StorageUnavailable) and path.exists() and not _writable(path):
        return StorageUnavailable(
            "database is read-only (the file or its directory cannot be written; "
            "SQLite also needs to create the -wal and -shm files beside it)",
            where=str(path),
        )
    return error


def _writable(path: Path) -> bool:
    """Whether the file and its directory can really be written (root ignores modes, so
    os.access is not enough: an immutable attribute or a read-only mount still refuses)."""
    try:
        os.close(os.open(path, os.O_RDWR))
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError:
        return False
    return True


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        or "locked" in str(exc)
    )


def translate(exc: sqlite3.Error, where: str) -> StorageError:
    """Map a sqlite3 error to the queue's error tree with a message a user can act on."""
    text = str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    if is_busy(exc):
        return StorageBusy("database is locked by another process", where=where)
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return StorageUnavailable(
            "database is read-only (check the file's and its directory's permissions)",
            where=where,
        )
    if code == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
        return StorageUnavailable(
            "cannot open the database file (missing directory or no permission)", where=where
        )
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "not a database" in text:
        return StorageUnavailable("database file is corrupt or not a SQLite database", where=where)
    if code == sqlite3.SQLITE_FULL:
        return StorageUnavailable("disk is full", where=where)
    if code == sqlite3.SQLITE_IOERR or "disk I/O" in text:
        return StorageUnavailable(f"disk I/O error: {text}", where=where)
    return StorageError(f"sqlite error: {text}", where=where)
