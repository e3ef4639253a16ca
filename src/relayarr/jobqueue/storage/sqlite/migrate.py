"""Numbered schema migrations for the SQLite engine, tracked in ``PRAGMA user_version``."""

from __future__ import annotations

import sqlite3

from relayarr.jobqueue.errors import StorageUnavailable
from relayarr.jobqueue.storage.sql import load_migrations

MIGRATIONS = load_migrations(f"{__package__}.migrations")
LATEST = len(MIGRATIONS)


def split_statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would COMMIT our transaction)."""
    statements: list[str] = []
    current: list[str] = []
    for line in script.splitlines(keepends=True):
        current.append(line)
        text = "".join(current)
        if sqlite3.complete_statement(text):
            statements.append(text.strip())
            current = []
    rest = "".join(current).strip()
    if rest and not all(part.strip().startswith("--") for part in rest.splitlines() if part):
        raise ValueError(f"incomplete statement at the end of a migration: {rest[:80]!r}")
    return statements


def apply_migrations(conn: sqlite3.Connection, where: str) -> int:
    """Bring the schema to LATEST inside the caller's write transaction; returns the version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > LATEST:
        raise StorageUnavailable(
            f"database schema version {version} is newer than this relayarr knows ({LATEST}); "
            "upgrade relayarr",
            where=where,
        )
    for number, _name, script in MIGRATIONS[version:]:
        for statement in split_statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {int(number)}")  # an int we parsed, not input
    return max(version, LATEST)
