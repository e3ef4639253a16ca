"""Which PostgreSQL driver for the engine: asyncpg or psycopg 3, measured on one server.

    python -m benchmarks.pg_drivers postgresql://user:pass@127.0.0.1:5432/db [--jobs N]

Two workloads, each on both drivers, against the same server and a scratch table:

* ``insert``: one single-row INSERT per transaction (autocommit), one after another: the
  bound of a one-job-per-call enqueue;
* ``drain``: claim 32 jobs with ``FOR UPDATE SKIP LOCKED`` and complete each one (delete
  from the active table, insert into history), several ways: one transaction per
  completion, all of a batch's completions in one transaction (one round trip each), and
  for psycopg the same transaction in pipeline mode (one round trip for the batch).

Prints jobs (or rows) per second; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
import psycopg

SCHEMA = """
DROP TABLE IF EXISTS bench_queue, bench_history;
CREATE TABLE bench_queue (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload text NOT NULL, priority int NOT NULL, run_at double precision NOT NULL,
    status text NOT NULL, token text, expires double precision);
CREATE INDEX bench_claim ON bench_queue (priority, run_at, id) WHERE status = 'pending';
CREATE TABLE bench_history (id bigint PRIMARY KEY, payload text NOT NULL,
    finished double precision NOT NULL);
"""
INSERT = "INSERT INTO bench_queue (payload, priority, run_at, status) VALUES ($1, 5, $2, 'pending')"
CLAIM = """
WITH picked AS MATERIALIZED (
    SELECT id FROM bench_queue WHERE status = 'pending' AND run_at <= $1
    ORDER BY priority, run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
UPDATE bench_queue q SET status = 'processing', token = md5(q.id::text), expires = $1 + 30
FROM picked WHERE q.id = picked.id RETURNING q.id, q.token
"""
COMPLETE = """
WITH taken AS (DELETE FROM bench_queue WHERE id = $1 AND token = $2 AND expires > $3
               RETURNING id, payload)
INSERT INTO bench_history (id, payload, finished) SELECT id, payload, $3 FROM taken
"""
COMPLETE_MANY = """
WITH taken AS (DELETE FROM bench_queue q USING unnest($1::bigint[], $2::text[]) AS u(id, token)
               WHERE q.id = u.id AND q.token = u.token AND q.expires > $3
               RETURNING q.id, q.payload)
INSERT INTO bench_history (id, payload, finished) SELECT id, payload, $3 FROM taken
"""
SELECT = "SELECT id, payload FROM bench_queue WHERE id = $1"


def done(row: tuple[object, ...], now: float) -> dict[str, object]:
    return {"id": row[0], "token": row[1], "now": now}


def psycopg_sql(sql: str) -> str:
    """The same statement with psycopg's placeholders."""
    for n in range(3, 0, -1):
        sql = sql.replace(f"${n}", "%s")
    return sql


async def timed(label: str, count: int, body: Callable[[], Awaitable[None]]) -> None:
    started = time.perf_counter()
    await body()
    elapsed = time.perf_counter() - started
    print(f"{label:<48} {count / elapsed:>9,.0f} /s")


async def run_asyncpg(url: str, jobs: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SCHEMA)

        async def inserts() -> None:
            for n in range(jobs):
                await conn.execute(INSERT, f'{{"n":{n}}}', time.time())

        await timed("asyncpg insert, one per transaction", jobs, inserts)

        async def selects() -> None:
            for n in range(jobs):
                await conn.fetchrow(SELECT, n + 1)

        await timed("asyncpg select by id (no commit)", jobs, selects)
        for mode in ("one tx per completion", "one tx per batch", "one statement per batch"):
            await conn.execute("TRUNCATE bench_queue, bench_history")
            await conn.executemany(INSERT, [(f'{{"n":{n}}}', 0.0) for n in range(jobs)])

            async def drain(mode: str = mode) -> None:
                while rows := await conn.fetch(CLAIM, time.time(), 32):
                    now = time.time()
                    if mode == "one statement per batch":
                        ids, tokens = [row[0] for row in rows], [row[1] for row in rows]
                        await conn.execute(COMPLETE_MANY, ids, tokens, now)
                    elif mode == "one tx per batch":
                        async with conn.transaction():
                            for row in rows:
                                await conn.execute(COMPLETE, row[0], row[1], now)
                    else:
                        for row in rows:
                            await conn.execute(COMPLETE, row[0], row[1], now)

            await timed(f"asyncpg drain, {mode}", jobs, drain)
    finally:
        await conn.close()


async def run_psycopg(url: str, jobs: int) -> None:
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    insert = psycopg_sql(INSERT)
    complete = COMPLETE.replace("$1", "%(id)s").replace("$2", "%(token)s")
    complete = complete.replace("$3", "%(now)s")
    claim = CLAIM.replace("$1", "%(now)s").replace("$2", "%(limit)s")
    try:
        await conn.execute(SCHEMA)

        async def inserts() -> None:
            for n in range(jobs):
                await conn.execute(insert, (f'{{"n":{n}}}', time.time()), prepare=True)

        await timed("psycopg insert, one per transaction", jobs, inserts)
        select = psycopg_sql(SELECT)

        async def selects() -> None:
            for n in range(jobs):
                cur = await conn.execute(select, (n + 1,), prepare=True)
                await cur.fetchone()

        await timed("psycopg select by id (no commit)", jobs, selects)
        modes = ("one tx per completion", "one tx per batch", "one tx per batch, pipelined")
        for mode in modes:
            await conn.execute("TRUNCATE bench_queue, bench_history")
            async with conn.cursor() as cur:
                await cur.executemany(insert, [(f'{{"n":{n}}}', 0.0) for n in range(jobs)])

            async def drain(mode: str = mode) -> None:
                while True:
                    params = {"now": time.time(), "limit": 32}
                    cur = await conn.execute(claim, params, prepare=True)
                    rows = await cur.fetchall()
                    if not rows:
                        return
                    now = time.time()
                    if mode == "one tx per completion":
                        for row in rows:
                            await conn.execute(complete, done(row, now), prepare=True)
                    elif mode == "one tx per batch":
                        async with conn.transaction():
                            for row in rows:
                                await conn.execute(complete, done(row, now), prepare=True)
                    else:
                        async with conn.pipeline(), conn.transaction():
                            for row in rows:
                                await conn.execute(complete, done(row, now), prepare=True)

            await timed(f"psycopg drain, {mode}", jobs, drain)
        await conn.execute("DROP TABLE bench_queue, bench_history")
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--jobs", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for round_ in range(1, args.rounds + 1):
        print(f"-- round {round_}")
        await run_asyncpg(args.url, args.jobs)
        await run_psycopg(args.url, args.jobs)


if __name__ == "__main__":
    asyncio.run(main())
