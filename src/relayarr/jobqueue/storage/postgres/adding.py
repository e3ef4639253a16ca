"""Adding jobs on PostgreSQL: one statement per add, and group commit for concurrent adds.

Jobs without unique keys (nearly all) go through :class:`Adder`. An add that finds no
other add of this handle in flight sends its own statement at once: one round trip, one
autocommit statement (``insert_job`` for one job, ``insert_jobs`` over arrays for more),
no BEGIN/COMMIT and nothing read back. Adds that arrive while one is in flight wait, and
all of them go together as the next statement: one commit for however many callers (group
commit), each caller getting its own jobs back. So one caller adding job after job pays
one round trip per job, and many callers adding at once share commits instead of queueing
for them. Each caller's jobs still commit together or not at all.

Adds with unique keys need to look at the key's holder and run in a transaction of their
own (see :func:`add_in`); completions with follow-ups use :func:`add_in` inside theirs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from relayarr.jobqueue.bulk import paused_gc
from relayarr.jobqueue.errors import StorageError
from relayarr.jobqueue.models import Added, JobStatus, NewJob
from relayarr.jobqueue.storage.postgres.connection import Database
from relayarr.jobqueue.storage.sql import ID, RUN_AT, STATUS, UNIQUE_KEY, row_to_job

MERGE_LIMIT = 1000  # adds of more jobs go on their own: small adds never wait behind them
UNIQUE_ATTEMPTS = 20  # a unique key whose holder keeps finishing under us: give up after
_PENDING = JobStatus.PENDING
_fromtimestamp = datetime.fromtimestamp


@dataclass(slots=True)
class _Waiting:
    jobs: Sequence[NewJob]
    now: float
    future: asyncio.Future[list[Added]]


class Adder:
    """Stores jobs without unique keys for one storage handle, merging concurrent adds."""

    def __init__(self, db: Database, queries: dict[str, str]) -> None:
        self._db = db
        self._queries = queries
        self._sending = False  # a statement of ours is in flight
        self._waiting: list[_Waiting] = []
        self._running: set[asyncio.Task[None]] = set()

    async def add(self, jobs: Sequence[NewJob], now: float) -> list[Added]:
        """Store ``jobs`` (none with a unique key) in one statement; ids in input order."""
        if len(jobs) > MERGE_LIMIT:
            return await self._store([(jobs, now)])
        if not self._sending:
            self._sending = True
            try:
                return await self._store([(jobs, now)])
            finally:
                self._send_waiting()
        future: asyncio.Future[list[Added]] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(jobs, now, future))
        return await future

    def _send_waiting(self) -> None:
        """Send every add that waited as one statement, or go idle if none did."""
        waiting = [entry for entry in self._waiting if not entry.future.done()]
        self._waiting = []
        if not waiting:
            self._sending = False
            return
        task = asyncio.get_running_loop().create_task(self._send(waiting))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _send(self, waiting: list[_Waiting]) -> None:
        try:
            added = await self._store([(entry.jobs, entry.now) for entry in waiting])
        except asyncio.CancelledError:
            # Only the loop shutting down cancels this task: nobody is left to send for.
            for entry in waiting + self._waiting:
                entry.future.cancel()
            self._waiting = []
            self._sending = False
            raise
        except Exception as exc:
            for entry in waiting:
                if not entry.future.done():
                    entry.future.set_exception(exc)
        else:
            start = 0
            for entry in waiting:
                end = start + len(entry.jobs)
                if not entry.future.done():
                    entry.future.set_result(added[start:end])
                start = end
        self._send_waiting()

    async def _store(self, adds: Sequence[tuple[Sequence[NewJob], float]]) -> list[Added]:
        # One statement in autocommit: atomic without BEGIN/COMMIT, never retried blindly
        # (a commit that goes unanswered is reported, not repeated).
        return await self._db.run(
            lambda conn: insert_plain(conn, self._queries, adds), name="add", write=True
        )

    async def drain(self) -> None:
        """Wait until every add handed to this adder so far has been stored (or failed)."""
        while self._running or self._waiting:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            else:
                await asyncio.sleep(0)


# -- inside one connection -----------------------------------------------------------------


async def insert_plain(
    conn: Any, queries: dict[str, str], adds: Sequence[tuple[Sequence[NewJob], float]]
) -> list[Added]:
    """Insert the jobs of several adds (each its jobs and its ``now``) in one statement,
    ids in input order; listeners are notified when any of them is due."""
    if len(adds) == 1 and len(adds[0][0]) == 1:
        [([new], now)] = adds
        job_id = await conn.fetchval(
            queries["insert_job"],
            new.type,
            new.payload_json,
            new.priority,
            new.max_attempts,
            new.run_at,
            new.parent_id,
            now,
            new.run_at <= now,
        )
        return [Added.new(new.stored(job_id, now, _fromtimestamp(now, UTC)))]
    jobs = [new for batch, _ in adds for new in batch]
    rows = await conn.fetch(
        queries["insert_jobs"],
        [new.type for new in jobs],
        [new.payload_json for new in jobs],
        [new.priority for new in jobs],
        [new.max_attempts for new in jobs],
        [new.run_at for new in jobs],
        [new.parent_id for new in jobs],
        [now for batch, now in adds for _ in batch],
        any(new.run_at <= now for batch, now in adds for new in batch),
    )
    out: list[Added] = []
    ids = iter(rows)
    with paused_gc(len(jobs)):
        for batch, now in adds:
            created_at = _fromtimestamp(now, UTC)
            out += [Added.new(new.stored(next(ids)[0], now, created_at)) for new in batch]
    return out


async def try_insert_unique(
    conn: Any, queries: dict[str, str], new: NewJob, now: float
) -> Added | None:
    """Insert a job with a unique key if nobody holds the key; None if somebody does."""
    job_id = await conn.fetchval(
        queries["insert_unique"],
        new.type,
        new.payload_json,
        new.priority,
        new.max_attempts,
        new.run_at,
        new.unique_key,
        new.parent_id,
        now,
        new.run_at <= now,
    )
    if job_id is None:
        return None
    return Added.new(new.stored(job_id, now, _fromtimestamp(now, UTC)))


async def _add_unique(conn: Any, queries: dict[str, str], new: NewJob, now: float) -> Added:
    """The job holding ``new.unique_key`` after this call: ``new`` itself, or the holder
    (its run_at pushed later when ``new.debounce`` asks)."""
    for _ in range(UNIQUE_ATTEMPTS):
        added = await try_insert_unique(conn, queries, new, now)
        if added is not None:
            return added
        row = await conn.fetchrow(queries["find_unique"], new.unique_key)
        if row is None:
            continue  # the holder finished between the two statements: try again
        if new.debounce and row[STATUS] == _PENDING and new.run_at > row[RUN_AT]:
            moved = await conn.fetchrow(queries["debounce"], new.run_at, row[ID])
            if moved is None:
                moved = await conn.fetchrow(queries["find_unique"], row[UNIQUE_KEY])
            row = moved
            if row is None:
                continue
        return Added(row_to_job(row), created=False)
    raise StorageError(f"unique key {new.unique_key!r} kept changing hands; try again")


async def add_in(
    conn: Any, queries: dict[str, str], jobs: Sequence[NewJob], now: float
) -> list[Added]:
    """Add jobs in order inside the caller's transaction; runs without keys go together."""
    out: list[Added] = []
    run: list[NewJob] = []
    for new in jobs:
        if new.unique_key is None:
            run.append(new)
            continue
        if run:
            out += await insert_plain(conn, queries, [(run, now)])
            run = []
        out.append(await _add_unique(conn, queries, new, now))
    if run:
        out += await insert_plain(conn, queries, [(run, now)])
    return out
