"""Storage.ping against real servers: it answers while the server does, raises the engine's
StorageError once the server is gone, and answers again when it is back.

Each test stops a server of its own. The URLs give up on an outage at once
(``reconnect_timeout=0``, ``retry_for=0``): with the defaults a ping waits an outage out
like any read, for up to a minute, which a health check bounds with its own timeout.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from relayarr.jobqueue.errors import StorageError
from relayarr.jobqueue.storage import open_storage
from servers import PostgresServer, RedisServer


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer(appendonly=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_postgresql_ping_follows_the_server(postgres: PostgresServer) -> None:
    storage = await open_storage(postgres.url() + "?reconnect_timeout=0")
    try:
        await storage.ping()
        postgres.pause()
        with pytest.raises(StorageError, match="PostgreSQL"):
            await storage.ping()
        postgres.resume()
        await storage.ping()
    finally:
        await storage.aclose()


async def test_redis_ping_follows_the_server(redis: RedisServer) -> None:
    storage = await open_storage(redis.url(prefix="ping:") + "&retry_for=0")
    try:
        await storage.ping()
        redis.shutdown()
        with pytest.raises(StorageError, match="cannot reach Redis"):
            await storage.ping()
        redis.resume()
        await storage.ping()
    finally:
        await storage.aclose()
