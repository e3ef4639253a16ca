"""The SQLite engine's migrations against databases frozen at each released schema version.

A test that builds the migrated and the fresh schema from the same migration files cannot
fail; these start from ``tests/fixtures/sqlite-queue/vN.sql``, dumps of databases as each
release left them, so editing a released migration in place (which would never reach the
databases already in use) or writing a migration that loses data makes them fail. A release
that adds a migration freezes its schema as a new ``vN.sql``, which the last test asks for.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.errors import StorageUnavailable
from relayarr.jobqueue.models import BreakerPhase, JobId, JobStatus, NewJob
from relayarr.jobqueue.storage import open_storage
from relayarr.jobqueue.storage.sqlite.migrate import LATEST

FROZEN = Path(__file__).parent.parent / "fixtures" / "sqlite-queue"
VERSIONS = sorted(int(path.stem[1:]) for path in FROZEN.glob("v*.sql"))


def schema(path: Path) -> list[tuple[str, str, str]]:
    """Every table and index with its SQL, comments and layout left out."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    finally:
        conn.close()
    return [
        (kind, name, " ".join(re.sub(r"--[^\n]*", "", sql).split())) for kind, name, sql in rows
    ]


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def released(version: int, path: Path) -> Path:
    """A database file as release ``version`` left it."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript((FROZEN / f"v{version}.sql").read_text(encoding="utf-8"))
    finally:
        conn.close()
    assert user_version(path) == version
    return path


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_released_database_upgrades_to_the_fresh_schema_with_its_jobs(
    tmp_path: Path, version: int
) -> None:
    clock = FakeClock(1_700_000_200.0)
    old = released(version, tmp_path / "old.db")
    storage = await open_storage(f"sqlite:///{old}", clock=clock)
    try:
        await storage.migrate()  # a second run changes nothing
        pending, processing = await storage.get(JobId(1)), await storage.get(JobId(2))
        completed, failed = await storage.get(JobId(3)), await storage.get(JobId(4))
        assert (pending.status, pending.payload, pending.unique_key) == (
            JobStatus.PENDING,
            {"path": "/media/Movies/Amélie (2001)"},
            "folder:/media/Movies/Amélie (2001)",
        )
        assert (processing.status, processing.lease_owner, processing.rescues) == (
            JobStatus.PROCESSING,
            "host:123",
            1,
        )
        assert (completed.status, completed.result) == (JobStatus.COMPLETED, {"scan": 1})
        assert (failed.status, failed.last_error) == (JobStatus.FAILED, "no such folder")
        [breaker] = await storage.breakers()
        assert (breaker.name, breaker.phase) == ("notify-players", BreakerPhase.OPEN)
        [added] = await storage.add([NewJob.create("t", {}, now=clock.now())])
        assert added.job.id == 8, "ids pruned before the upgrade are never handed out again"
    finally:
        await storage.aclose()
    fresh = tmp_path / "fresh.db"
    await (await open_storage(f"sqlite:///{fresh}", clock=clock)).aclose()
    assert user_version(old) == user_version(fresh) == LATEST
    assert schema(old) == schema(fresh)


async def test_a_schema_newer_than_this_version_is_refused(tmp_path: Path) -> None:
    path = released(VERSIONS[-1], tmp_path / "q.db")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    for create in (True, False):
        with pytest.raises(StorageUnavailable, match="newer"):
            await open_storage(f"sqlite:///{path}", create=create)


def test_the_newest_schema_is_frozen() -> None:
    """Each schema version a release ships has its frozen database here."""
    assert list(range(1, LATEST + 1)) == VERSIONS
