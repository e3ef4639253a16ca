"""Numbered schema migrations for the PostgreSQL engine, recorded in jobqueue_migrations.

Migrators take a session-level advisory lock first, so any number of processes may start
at once against a fresh database: one applies the migrations, the others wait and then
find nothing left to do. Each migration runs in its own transaction with its record.
"""

from __future__ import annotations

from typing import Any

from relayarr.jobqueue.errors import StorageUnavailable
from relayarr.jobqueue.storage.sql import load_migrations

MIGRATIONS = load_migrations(f"{__package__}.migrations")
LATEST = len(MIGRATIONS)
LOCK_KEY = 0x72656C61795F6D67  # "relay_mg": this advisory lock serialises migrators


async def apply_migrations(conn: Any, queries: dict[str, str], where: str, now: float) -> int:
    """Bring the schema to LATEST; returns the version. ``conn`` is an asyncpg connection
    outside any transaction."""
    await conn.execute(queries["migration_lock"], LOCK_KEY)
    try:
        await conn.execute(queries["create_migrations_table"])
        applied = {row[0] for row in await conn.fetch(queries["applied_migrations"])}
        newest = max(applied, default=0)
        if newest > LATEST:
            raise StorageUnavailable(
                f"database schema version {newest} is newer than this relayarr knows "
                f"({LATEST}); upgrade relayarr",
                where=where,
            )
        for number, name, script in MIGRATIONS:
            if number in applied:
                continue
            async with conn.transaction():
                await conn.execute(script)  # a file shipped with the package, no parameters
                await conn.execute(queries["record_migration"], number, name, now)
        return LATEST
    finally:
        if not conn.is_closed():
            await conn.execute(queries["migration_unlock"], LOCK_KEY)


async def check_schema(conn: Any, queries: dict[str, str], where: str) -> None:
    """Refuse a database that was never migrated, or migrated by a newer relayarr."""
    if not await conn.fetchval(queries["has_migrations_table"]):
        raise StorageUnavailable(
            "database has no relayarr schema (run `relayarr migrate`)", where=where
        )
    version = await conn.fetchval(queries["schema_version"]) or 0
    if version < LATEST:
        raise StorageUnavailable(
            f"database schema is at version {version}, this relayarr needs {LATEST} "
            "(run `relayarr migrate`)",
            where=where,
        )
    if version > LATEST:
        raise StorageUnavailable(
            f"database schema version {version} is newer than this relayarr knows "
            f"({LATEST}); upgrade relayarr",
            where=where,
        )
