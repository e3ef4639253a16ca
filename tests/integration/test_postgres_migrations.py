"""The PostgreSQL engine's numbered migrations: a database upgraded one release at a time
ends with exactly the schema of a database created at the newest version."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.models import JobStatus, NewJob
from relayarr.jobqueue.storage import open_storage
from relayarr.jobqueue.storage.postgres import migrate
from servers import PostgresServer, postgres_server


@pytest.fixture
def server() -> PostgresServer:
    return postgres_server()


@pytest.fixture
def databases(server: PostgresServer) -> Iterator[tuple[str, str]]:
    names = (server.create_database(), server.create_database())
    try:
        yield names
    finally:
        for name in names:
            server.drop_database(name)


def schema(server: PostgresServer, database: str) -> list[str]:
    """The database's schema as pg_dump prints it (tables, columns, defaults, identities,
    constraints, indexes, sequences, functions), without comments and blank lines."""
    completed = subprocess.run(
        [
            str(server.bindir / "pg_dump"),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "-h",
            str(server.socket_dir),
            "-p",
            str(server.port),
            "-U",
            "postgres",
            database,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [
        line
        for line in completed.stdout.splitlines()
        if line.strip() and not line.startswith("--") and not line.startswith("\\")
    ]


async def versions(server: PostgresServer, database: str) -> list[int]:
    conn = await server.admin(database)
    try:
        return [
            row[0] for row in await conn.fetch("SELECT version FROM jobqueue_migrations ORDER BY 1")
        ]
    finally:
        await conn.close()


async def test_a_schema_upgraded_step_by_step_equals_a_fresh_one(
    server: PostgresServer, databases: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stepwise, fresh = databases
    assert migrate.LATEST >= 2, "nothing to upgrade through"
    clock = FakeClock()
    # Each earlier release in turn: only its migrations are known, and it leaves a job.
    for known in range(1, migrate.LATEST):
        with monkeypatch.context() as patched:
            patched.setattr(migrate, "MIGRATIONS", migrate.MIGRATIONS[:known])
            patched.setattr(migrate, "LATEST", known)
            storage = await open_storage(server.url(stepwise), clock=clock)
            try:
                await storage.add([NewJob.create("t", {"release": known}, now=clock.now())])
            finally:
                await storage.aclose()
        assert await versions(server, stepwise) == list(range(1, known + 1))
    upgraded = await open_storage(server.url(stepwise), clock=clock)
    try:
        await upgraded.migrate()  # and once more: nothing left to do
        stats = await upgraded.stats()
        assert stats.count(JobStatus.PENDING) == migrate.LATEST - 1, "the upgrade lost jobs"
    finally:
        await upgraded.aclose()
    created = await open_storage(server.url(fresh), clock=clock)
    await created.aclose()

    assert await versions(server, stepwise) == await versions(server, fresh)
    assert await versions(server, fresh) == list(range(1, migrate.LATEST + 1))
    assert schema(server, stepwise) == schema(server, fresh)
    assert any("event_log" in line for line in schema(server, fresh))
