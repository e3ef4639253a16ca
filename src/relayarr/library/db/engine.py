"""One URL picks the library database: ``sqlite:///path`` (aiosqlite) or
``postgresql://...`` (asyncpg), as for the queue.

SQLite gets what a database shared by several workers needs: WAL, foreign keys, a busy
timeout, and write transactions that take the write lock when they begin (``BEGIN
IMMEDIATE``), so two writers queue up instead of one failing at its first write.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from relayarr.errors import LibraryStoreError

BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "relayarr_read_only"  # execution option: a plain BEGIN, no write lock


def driver_url(url: str) -> URL:
    """The SQLAlchemy URL with its async driver; raises :class:`LibraryStoreError` for a
    URL that is neither SQLite nor PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LibraryStoreError(
            f"library database URL {shown(url)} is not a URL: use sqlite:///path or "
            "postgresql://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise LibraryStoreError(
        f"library database URL {shown(url)}: the library needs sqlite:// or postgresql://"
    )


def shown(url: str | URL) -> str:
    """A URL fit for messages and logs: the password masked."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "(unparsable)"
    return parsed.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> str | None:
    """The file of a SQLite URL (``None`` for PostgreSQL or an in-memory database)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


def make_engine(url: str, *, create: bool) -> AsyncEngine:
    """An engine for ``url``. Without ``create``, a SQLite file that does not exist is an
    error naming it (``relayarr migrate`` creates it), never a new empty library."""
    parsed = driver_url(url)
    path = sqlite_file(parsed)
    if path is not None:
        if create:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        elif not os.path.exists(path):
            raise LibraryStoreError(
                f"library database {path} does not exist; create it with: relayarr migrate"
            )
        engine = create_async_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _sqlite_setup(engine)
        return engine
    return create_async_engine(parsed, pool_pre_ping=True)


def _sqlite_setup(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off so "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        options: Mapping[str, Any] = connection.get_execution_options()
        connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")


__all__ = ["READ_ONLY", "driver_url", "make_engine", "shown", "sqlite_file"]
