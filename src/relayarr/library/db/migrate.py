"""Migrating the library database with Alembic, programmatically: the scripts ship inside
the package (``relayarr/library/db/migrations``), and no ``alembic.ini`` is needed.

``relayarr migrate`` calls :func:`migrate`. Several processes may call it at once: on
PostgreSQL an advisory lock, on SQLite the write lock of ``BEGIN IMMEDIATE``, lets one
migrate while the others wait and then find nothing to do.

A new revision (after changing :mod:`~relayarr.library.db.models`)::

    .venv/bin/python -c 'import asyncio; from relayarr.library.db.migrate import new_revision;
    asyncio.run(new_revision("sqlite:////tmp/rev.db", "provider cache"))'

writes ``versions/vNNNN_provider_cache.py`` from the difference between the models and a
database migrated to the current head; read it, then commit it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from relayarr.errors import LibraryStoreError
from relayarr.library.db.engine import make_engine, shown

log = logging.getLogger(__name__)

VERSION_TABLE = "library_alembic_version"
_LOCK_KEY = 0x7265_6C61_6C69_6272  # any fixed 63-bit number; "relalibr"


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """The revision the database was at before (``None``: it was empty) and is at now."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def migrations_path() -> Path:
    """Where the migration scripts are, inside the installed package."""
    return Path(str(files("relayarr.library.db") / "migrations"))


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged scripts."""
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


async def migrate(url: str) -> MigrationResult:
    """Create or upgrade the library database at ``url`` to the newest revision.

    Raises :class:`~relayarr.errors.LibraryStoreError` naming the database (never its
    password) when it cannot be reached or migrated.
    """
    engine = make_engine(url, create=True)
    try:
        async with engine.begin() as connection:
            await _lock(connection)
            before = await connection.run_sync(current_revision)
            await connection.run_sync(_upgrade)
            after = await connection.run_sync(current_revision)
    except (SQLAlchemyError, OSError) as exc:
        raise LibraryStoreError(f"cannot migrate the library database {shown(url)}: {exc}") from exc
    finally:
        await engine.dispose()
    assert after is not None
    if before != after:
        log.info(
            "library database migrated",
            extra={"database": shown(url), "from": before, "to": after},
        )
    return MigrationResult(before, after)


async def new_revision(url: str, message: str) -> None:
    """Autogenerate the next revision from the models (see the module docs)."""
    engine = make_engine(url, create=True)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade)
            number = len(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
            config = alembic_config()

            def _revise(sync: Connection) -> None:
                config.attributes["connection"] = sync
                command.revision(config, message, autogenerate=True, rev_id=f"{number + 1:04d}")

            await connection.run_sync(_revise)
    finally:
        await engine.dispose()


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (``None`` when it has never been migrated)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


async def _lock(connection: AsyncConnection) -> None:
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


__all__ = [
    "VERSION_TABLE",
    "MigrationResult",
    "alembic_config",
    "current_revision",
    "head_revision",
    "migrate",
    "migrations_path",
    "new_revision",
]
