"""The engines the contract suite runs against: one entry each, every contract test on all.

An engine is a way to get a fresh, empty database as a queue URL. Adding an engine to the
suite is one entry in :data:`ENGINES`; the tests themselves never change.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from servers import postgres_server, redis_database

FreshDatabase = Callable[[], AbstractAsyncContextManager[str]]


@asynccontextmanager
async def sqlite_database() -> AsyncIterator[str]:
    """A database file in its own temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="relayarr-contract-") as directory:
        yield f"sqlite:///{directory}/queue.db"


@asynccontextmanager
async def postgresql_database() -> AsyncIterator[str]:
    """An empty database on the session's throwaway PostgreSQL server."""
    async with postgres_server().fresh_database() as url:
        yield url


ENGINES: dict[str, FreshDatabase] = {
    "sqlite": sqlite_database,
    "postgresql": postgresql_database,
    "redis": redis_database,
}


@pytest.fixture(params=sorted(ENGINES))
def fresh_database(request: pytest.FixtureRequest) -> FreshDatabase:
    """Makes fresh databases of one engine (the test runs once per engine)."""
    engine: str = request.param
    return ENGINES[engine]


@pytest.fixture
async def queue_url(fresh_database: FreshDatabase) -> AsyncIterator[str]:
    """The URL of a fresh, empty database for this test."""
    async with fresh_database() as url:
        yield url
