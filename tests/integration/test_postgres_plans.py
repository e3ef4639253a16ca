"""The PostgreSQL engine's hot statements keep cheap plans whatever the statistics say.

The hard case is a queue table last analysed while empty (an idle spell, then a burst):
the planner then believes a claim matches almost nothing, and used to read every due job
(through another index or a bitmap scan) and sort them, making each claim and completion
cost O(queue length). The plans are checked with the settings the engine's own connections
use, as custom plans (first executions) and as generic plans (later ones).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.models import NewJob
from relayarr.jobqueue.storage import Storage, open_storage
from relayarr.jobqueue.storage.postgres import Q
from relayarr.jobqueue.storage.postgres.pool import SERVER_SETTINGS
from servers import postgres_server

PLAN_MODES = ("force_custom_plan", "force_generic_plan")


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with postgres_server().fresh_database() as fresh:
        yield fresh


@pytest.fixture
async def stale(url: str) -> AsyncIterator[tuple[Storage, asyncpg.Connection[asyncpg.Record]]]:
    """A storage whose job_queue was analysed empty, then filled with 5,000 jobs of which
    the first 200 ran; and a connection set up like the engine's own."""
    storage = await open_storage(url, clock=FakeClock())
    conn = await asyncpg.connect(url, server_settings=SERVER_SETTINGS)
    try:
        await conn.execute("ANALYZE job_queue")
        now = storage.clock.now()
        await storage.add([NewJob.create("t", {"n": n}, now=now) for n in range(5000)])
        for job in await storage.claim("w", ["t", "u"], 200, 30.0):
            await storage.complete(job.lease, None)
        yield storage, conn
    finally:
        await conn.close()
        await storage.aclose()


async def explain(
    conn: asyncpg.Connection[asyncpg.Record], mode: str, sql: str, *params: object
) -> str:
    async with conn.transaction():
        await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")  # one of PLAN_MODES
        return "\n".join(row[0] for row in await conn.fetch(f"EXPLAIN {sql}", *params))


@pytest.mark.parametrize("mode", PLAN_MODES)
async def test_a_claim_walks_the_claim_index_in_order_and_updates_by_key(
    stale: tuple[Storage, asyncpg.Connection[asyncpg.Record]], mode: str
) -> None:
    storage, conn = stale
    now = storage.clock.now()
    plan = await explain(conn, mode, Q["claim"], now, ["t", "u"], 32, "w", "token", now + 30)
    assert "Index Scan using job_queue_claim" in plan, plan
    assert "Index Scan using job_queue_pkey" in plan, plan
    for costly in ("Sort", "Bitmap", "Seq Scan", "job_queue_due"):
        assert costly not in plan, plan


@pytest.mark.parametrize("mode", PLAN_MODES)
async def test_a_completion_finds_its_jobs_by_key(
    stale: tuple[Storage, asyncpg.Connection[asyncpg.Record]], mode: str
) -> None:
    storage, conn = stale
    jobs = await storage.claim("w", ["t"], 32, 30.0)
    plan = await explain(
        conn,
        mode,
        Q["finish_leased"],
        [job.id for job in jobs],
        [job.lease.token for job in jobs],
        [None] * len(jobs),
        None,
        "completed",
        storage.clock.now(),
    )
    assert "using job_queue_pkey on job_queue" in plan, plan
    for costly in ("job_queue_lease", "Seq Scan on job_queue", "Bitmap"):
        assert costly not in plan, plan


@pytest.mark.parametrize("mode", PLAN_MODES)
async def test_next_due_reads_one_entry_per_type(
    stale: tuple[Storage, asyncpg.Connection[asyncpg.Record]], mode: str
) -> None:
    _, conn = stale
    plan = await explain(conn, mode, Q["next_due"], ["t", "u"])
    assert "job_queue_due" in plan, plan
    assert "Seq Scan on job_queue" not in plan, plan
