"""The library's Alembic migrations, on SQLite and a real PostgreSQL: the migrated schema
is exactly the models' (autogenerate finds nothing to do), migrating again or from many
processes at once is safe, and the scripts ship inside the package."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from relayarr.library.db import head_revision, migrate
from relayarr.library.db.engine import make_engine
from relayarr.library.db.migrate import VERSION_TABLE, alembic_config, migrations_path
from relayarr.library.db.models import Base
from servers import postgres_server


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/library.db"
        return
    server = postgres_server()
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
    )
    found: list[object] = compare_metadata(context, Base.metadata)
    return found


T = TypeVar("T")


async def _run(url: str, work: Callable[[Connection], T]) -> T:
    engine = make_engine(url, create=False)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def test_the_migrated_schema_is_the_models(url: str) -> None:
    result = await migrate(url)
    assert (result.before, result.after, result.changed) == (None, head_revision(), True)
    assert await _run(url, _differences) == []


async def test_migrating_again_changes_nothing(url: str) -> None:
    await migrate(url)
    again = await migrate(url)
    assert (again.before, again.after, again.changed) == (head_revision(), head_revision(), False)


async def test_concurrent_migrations_apply_once(url: str) -> None:
    results = await asyncio.wait_for(asyncio.gather(*(migrate(url) for _ in range(4))), 120)
    assert sorted(result.changed for result in results) == [False, False, False, True]

    def versions(connection: Connection) -> list[str]:
        return [
            row[0] for row in connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        ]

    assert await _run(url, versions) == [head_revision()]


async def test_downgrade_removes_every_table_and_upgrade_restores_them(url: str) -> None:
    await migrate(url)

    def downgrade(connection: Connection) -> list[str]:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        return sorted(inspect(connection).get_table_names())

    assert await _run(url, downgrade) == [VERSION_TABLE]
    await migrate(url)
    assert await _run(url, _differences) == []


def test_the_scripts_ship_in_the_package() -> None:
    folder = migrations_path()
    assert (folder / "env.py").is_file()
    assert (folder / "script.py.mako").is_file()
    assert sorted(path.name for path in (folder / "versions").glob("v*.py")) == [
        "v0001_initial.py",
        "v0002_metadata.py",
        "v0003_scanned_index.py",
    ]
    assert head_revision() == "0003"
    assert not (Path(__file__).parents[2] / "alembic.ini").exists()
