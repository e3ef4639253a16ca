"""Throwaway PostgreSQL and redis-server for the benchmarks: the tests' own servers.

They are started exactly as ``tests/servers.py`` starts them for the test suite (loopback
port, temporary directory, password auth; PostgreSQL with fsync and synchronous_commit
on; Redis with AOF ``appendfsync everysec``), so a benchmark figure and a test describe
the same server. Each measurement gets a fresh namespace: a new PostgreSQL database, or
an emptied Redis.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

TESTS = Path(__file__).resolve().parents[2] / "tests"
if str(TESTS) not in sys.path:
    sys.path.append(str(TESTS))

from servers import PostgresServer, RedisServer  # noqa: E402  (tests/servers.py)


class Target(Protocol):
    """A running server that hands out fresh, empty namespaces as queue URLs."""

    def fresh(self) -> str: ...


class PostgresTarget:
    """A new database per :meth:`fresh`; the previous one is dropped."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._current: str | None = None

    def fresh(self) -> str:
        self.discard()
        self._current = self.server.create_database()
        return self.server.url(self._current)

    def discard(self) -> None:
        if self._current is not None:
            self.server.drop_database(self._current)
            self._current = None


class RedisTarget:
    """The server's database 0, emptied (FLUSHALL) on each :meth:`fresh`."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server

    def fresh(self) -> str:
        self.server.command("FLUSHALL")
        return self.server.url(0)


@contextmanager
def postgres() -> Iterator[PostgresTarget]:
    server = PostgresServer()
    server.start()
    target = PostgresTarget(server)
    try:
        yield target
    finally:
        server.stop()


@contextmanager
def redis() -> Iterator[RedisTarget]:
    server = RedisServer()
    server.start()
    try:
        yield RedisTarget(server)
    finally:
        server.stop()
