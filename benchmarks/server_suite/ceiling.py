"""Raw limits of one connection to each server, to judge how busy the machine was.

The issue measured them on this machine class: about 2,300 single-statement transactions
per second on PostgreSQL (synchronous_commit on) and about 7,800 round trips per second on
Redis. Here: asyncpg running one single-row INSERT per transaction (autocommit), and
redis-py's asyncio client sending one PING at a time, each on one connection.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
from redis.asyncio import Redis

from benchmarks.common import Throughput
from benchmarks.server_suite.system import Engine

REFERENCE: dict[Engine, float] = {"postgresql": 2_300.0, "redis": 7_800.0}
TITLES: dict[Engine, str] = {
    "postgresql": "raw asyncpg, single-row INSERT commits, one connection",
    "redis": "raw redis-py, PING round trips, one connection",
}


async def _postgres(url: str, ops: int) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE ceiling (id bigserial PRIMARY KEY, v text NOT NULL)")
        started = time.perf_counter()
        for _ in range(ops):
            await conn.execute("INSERT INTO ceiling (v) VALUES ($1)", "x")
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _redis(url: str, ops: int) -> float:
    client = Redis.from_url(url)
    try:
        await client.ping()
        started = time.perf_counter()
        for _ in range(ops):
            await client.ping()
        return time.perf_counter() - started
    finally:
        await client.aclose()


def measure(engine: Engine, url: str, ops: int) -> Throughput:
    """``ops`` sequential operations on one connection to a fresh namespace at ``url``."""
    run = _postgres if engine == "postgresql" else _redis
    return Throughput(ops, asyncio.run(run(url, ops)))
