"""The PostgreSQL engine: several worker processes on several machines share one database.

``postgresql://user:password@host:5432/dbname``, with options ``?pool_size=10``,
``connect_timeout=10``, ``reconnect_timeout=60``, ``event_retention=100000`` and any
libpq-style option the driver understands (``sslmode=require``...). Needs the asyncpg
driver: ``pip install 'relayarr[postgres]'``.

The same two tables as every engine (``job_queue`` for pending and processing jobs,
``job_history`` for finished ones, moved in one transaction); times are epoch seconds from
the queue's clock, never the server's. Claims take ``FOR UPDATE SKIP LOCKED`` batches;
concurrent adds, and the completions of one loop turn, share a statement (see
:mod:`.adding` and :mod:`.batch`); other processes are woken with LISTEN/NOTIFY (see
:mod:`.listen`). The shared event log is in :mod:`.eventlog`. Connections come from a
light pool of our own (:mod:`.pool`); a lost connection is retried where that is safe and
reported where it is not (see :mod:`.connection`). Every write waits for the server's WAL
flush except a claim (see ``claim`` in queries.sql): a claim lost in a crash is only a
lost lease, its job pending again.
"""

from __future__ import annotations

import builtins
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.errors import (
    InvalidTransition,
    JobNotFound,
    LeaseLost,
    StorageError,
)
from relayarr.jobqueue.events import Event
from relayarr.jobqueue.models import (
    Added,
    BreakerState,
    Job,
    JobId,
    JobQuery,
    JobStatus,
    Lease,
    NewJob,
    Page,
    QueueStats,
)
from relayarr.jobqueue.rescue import rescue_failure, rescue_note
from relayarr.jobqueue.storage import BreakerTransition, Capabilities, ProgressCallback
from relayarr.jobqueue.storage.answers import FINISHED_WINDOW, page_of, queue_stats
from relayarr.jobqueue.storage.postgres import importing
from relayarr.jobqueue.storage.postgres.adding import Adder, add_in, try_insert_unique
from relayarr.jobqueue.storage.postgres.batch import CompletionBatcher
from relayarr.jobqueue.storage.postgres.connection import Database, PostgresOptions, redact_url
from relayarr.jobqueue.storage.postgres.eventlog import PostgresEventLog
from relayarr.jobqueue.storage.postgres.listen import Listener, PostgresWatch
from relayarr.jobqueue.storage.postgres.migrate import apply_migrations, check_schema
from relayarr.jobqueue.storage.pruning import Cut, prune_history
from relayarr.jobqueue.storage.rules import check_breaker_name, check_importable
from relayarr.jobqueue.storage.sql import (
    ATTEMPTS,
    ID,
    LAST_ERROR,
    LEASE_OWNER,
    MAX_ATTEMPTS,
    RESCUES,
    STATUS,
    UNIQUE_KEY,
    breaker_params,
    load_queries,
    restore_params,
    row_to_breaker,
    row_to_job,
)

log = logging.getLogger(__name__)

Q = load_queries(__name__)
PRUNE_BATCH = 2000  # history rows one statement of a prune deletes
NO_CURSOR = 2**63 - 1
_PENDING = JobStatus.PENDING


def _affected(tag: str) -> int:
    """Rows touched, from a command tag such as ``UPDATE 1``."""
    return int(tag.rsplit(" ", 1)[-1])


def _status_filter(statuses: Sequence[JobStatus]) -> tuple[bool, list[str]]:
    """The status parameters of keep_boundary and delete_batch: any finished status when
    ``statuses`` is empty."""
    return not statuses, [JobStatus(status).value for status in statuses]


class PostgresStorage:
    """Storage on a PostgreSQL database. Open with :func:`open_storage`."""

    capabilities = Capabilities(
        engine="postgresql",
        multi_process=True,
        multi_host=True,
        cross_process_events=True,
        instant_wakeups=True,
    )

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._where = db.where
        self._listener = Listener(db.options)
        self._adder = Adder(db, Q)
        self._completions = CompletionBatcher(db, Q, clock.now)
        self._events = PostgresEventLog(db, Q, db.options.event_retention)
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, clock: Clock, create: bool = True) -> PostgresStorage:
        """Connect; without ``create``, insist that the schema is there and current."""
        db = await Database.open(PostgresOptions.from_url(url))
        storage = cls(db, clock)
        if not create:
            try:
                await db.run(lambda conn: check_schema(conn, Q, db.where), name="check schema")
            except BaseException:
                await storage.aclose()
                raise
        return storage

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def where(self) -> str:
        return self._where

    def __repr__(self) -> str:
        return f"PostgresStorage({self._where!r})"

    # -- schema -------------------------------------------------------------------------

    async def migrate(self) -> None:
        now = self._clock.now()
        # Idempotent (each migration commits with its record), so it may be retried.
        await self._db.run(lambda conn: apply_migrations(conn, Q, self._where, now), name="migrate")

    # -- receiving moved jobs (JobImport, see .importing) ---------------------------------

    async def import_jobs(self, jobs: Sequence[Job]) -> int:
        if not jobs:
            return 0
        check_importable(jobs)
        stored: int = await self._db.run(
            lambda conn: importing.import_in(conn, jobs), name="import jobs", transaction=True
        )
        return stored

    # -- adding -------------------------------------------------------------------------

    async def add(self, jobs: Sequence[NewJob]) -> list[Added]:
        if not jobs:
            return []
        now = self._clock.now()
        if all(new.unique_key is None for new in jobs):
            return await self._adder.add(jobs, now)
        if len(jobs) == 1:
            added = await self._db.run(
                lambda conn: try_insert_unique(conn, Q, jobs[0], now), name="add", write=True
            )
            if added is not None:
                return [added]
        return await self._db.run(
            lambda conn: add_in(conn, Q, jobs, now), name="add", transaction=True
        )

    # -- the worker's path ---------------------------------------------------------------

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        if limit < 1 or not types:
            return []
        now = self._clock.now()
        token = secrets.token_hex(16)
        params = (now, list(types), limit, owner, token, now + lease_seconds)

        async def claimed(conn: Any) -> tuple[bool, Any]:
            # The token is new with this call: rows carrying it mean the claim committed.
            rows = await conn.fetch(Q["find_claimed"], token)
            return bool(rows), rows

        rows = await self._db.run(
            lambda conn: conn.fetch(Q["claim"], *params),
            name="claim",
            write=True,
            resolve=claimed,
        )
        jobs = [row_to_job(row) for row in rows]
        jobs.sort(key=lambda job: (job.priority, job.run_at, job.id))  # RETURNING has no order
        return jobs

    async def next_due(self, types: Sequence[str]) -> float | None:
        if not types:
            return None
        due: float | None = await self._db.run(
            lambda conn: conn.fetchval(Q["next_due"], list(types)), name="next due"
        )
        return due

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> float:
        now = self._clock.now()
        expires = now + lease_seconds
        # Idempotent (the same expiry again), so a write lost with the connection is retried.
        tag = await self._db.run(
            lambda conn: conn.execute(Q["heartbeat"], expires, lease.job_id, lease.token, now),
            name="heartbeat",
        )
        if _affected(tag) != 1:
            raise LeaseLost(lease.job_id)
        return expires

    async def complete(
        self, lease: Lease, result_json: str | None, follow_ups: Sequence[NewJob] = ()
    ) -> tuple[Job, list[Added]]:
        if not follow_ups:
            return await self._completions.complete(lease, result_json), []
        now = self._clock.now()

        async def op(conn: Any) -> tuple[Job, list[Added]]:
            rows = await conn.fetch(
                Q["finish_leased"],
                [lease.job_id],
                [lease.token],
                [result_json],
                None,
                JobStatus.COMPLETED.value,
                now,
            )
            if not rows:
                raise LeaseLost(lease.job_id)
            return row_to_job(rows[0]), await add_in(conn, Q, follow_ups, now)

        return await self._db.run(op, name="complete", transaction=True)

    async def fail(self, lease: Lease, error: str, retry_at: float | None) -> Job:
        now = self._clock.now()
        if retry_at is None:
            status = JobStatus.FAILED.value
            rows = await self._db.run(
                lambda conn: conn.fetch(
                    Q["finish_leased"], [lease.job_id], [lease.token], [None], error, status, now
                ),
                name="fail",
                write=True,
            )
            row = rows[0] if rows else None
        else:
            row = await self._db.run(
                lambda conn: conn.fetchrow(
                    Q["requeue_leased"], retry_at, error, lease.job_id, lease.token, now
                ),
                name="fail",
                write=True,
            )
        if row is None:
            raise LeaseLost(lease.job_id)
        return row_to_job(row)

    async def release(
        self, lease: Lease, run_at: float | None = None, note: str | None = None
    ) -> Job:
        now = self._clock.now()
        due = now if run_at is None else run_at
        row = await self._db.run(
            lambda conn: conn.fetchrow(
                Q["release_leased"], due, lease.job_id, lease.token, now, note
            ),
            name="release",
            write=True,
        )
        if row is None:
            raise LeaseLost(lease.job_id)
        return row_to_job(row)

    # -- steering ------------------------------------------------------------------------

    async def cancel(self, job_id: JobId) -> Job:
        now = self._clock.now()
        cancelled = JobStatus.CANCELLED.value
        row = await self._db.run(
            lambda conn: conn.fetchrow(Q["finish_active"], job_id, cancelled, now, None),
            name="cancel",
            write=True,
        )
        if row is None:
            await self.get(job_id)  # raises JobNotFound when it is nowhere
            raise InvalidTransition(f"job {job_id} has already finished")
        return row_to_job(row)

    async def retry(self, job_id: JobId) -> Job:
        now = self._clock.now()

        async def op(conn: Any) -> Job:
            row = await conn.fetchrow(Q["take_history"], job_id)
            if row is None:
                current = await conn.fetchrow(Q["get"], job_id)
                if current is None:
                    raise JobNotFound(job_id)
                if JobStatus(current[STATUS]).is_active:
                    raise InvalidTransition(f"job {job_id} is still active")
                raise InvalidTransition(f"job {job_id} completed; only failed or cancelled jobs")
            unique_key = row[UNIQUE_KEY]
            restored = await conn.fetchrow(Q["restore"], *restore_params(row, now))
            if restored is None:
                holder = await conn.fetchrow(Q["find_unique"], unique_key)
                holder_id = holder[0] if holder is not None else "another job"
                raise InvalidTransition(f"job {holder_id} already holds unique key {unique_key!r}")
            await conn.execute(Q["notify"])
            return row_to_job(restored)

        return await self._db.run(op, name="retry", transaction=True)

    async def reclaim(self, dead_owners: Sequence[str], max_rescues: int) -> list[Job]:
        now = self._clock.now()
        dead = list(dead_owners)

        async def op(conn: Any) -> list[Job]:
            rescued: list[Job] = []
            failed = JobStatus.FAILED.value
            for row in await conn.fetch(Q["stalled"], now, dead):
                owner = row[LEASE_OWNER]
                error = rescue_failure(
                    rescues=row[RESCUES],
                    attempts=row[ATTEMPTS],
                    max_attempts=row[MAX_ATTEMPTS],
                    max_rescues=max_rescues,
                    owner=owner,
                )
                if error is None:
                    note = rescue_note(row[LAST_ERROR], owner)
                    back = await conn.fetchrow(Q["rescue"], now, note, row[ID])
                    rescued.append(row_to_job(back))
                else:
                    done = await conn.fetchrow(Q["finish_active"], row[ID], failed, now, error)
                    rescued.append(row_to_job(done))
            if any(job.status is _PENDING for job in rescued):
                await conn.execute(Q["notify"])
            return rescued

        return await self._db.run(op, name="reclaim", transaction=True)

    async def lease_owners(self) -> list[str]:
        rows = await self._db.run(lambda conn: conn.fetch(Q["lease_owners"]), name="lease owners")
        return [row[0] for row in rows]

    # -- reading ------------------------------------------------------------------------

    async def ping(self) -> None:
        await self._db.run(lambda conn: conn.fetchval(Q["ping"]), name="ping")

    async def get(self, job_id: JobId) -> Job:
        row = await self._db.run(lambda conn: conn.fetchrow(Q["get"], job_id), name="get")
        if row is None:
            raise JobNotFound(job_id)
        return row_to_job(row)

    async def list(self, query: JobQuery) -> Page:
        statuses = [JobStatus(status) for status in query.statuses]
        params = (
            query.before_id if query.before_id is not None else NO_CURSOR,
            not statuses,
            [status.value for status in statuses],
            not query.types,
            list(query.types),
            query.parent_id,
            query.unique_key,
            query.limit + 1,
            not statuses or any(status.is_active for status in statuses),
            not statuses or any(status.is_terminal for status in statuses),
        )
        rows = await self._db.run(lambda conn: conn.fetch(Q["list"], *params), name="list")
        return page_of([row_to_job(row) for row in rows], query.limit)

    async def stats(self) -> QueueStats:
        now = self._clock.now()

        async def op(conn: Any) -> QueueStats:
            counts = await conn.fetch(Q["counts"])
            oldest = await conn.fetchval(Q["oldest_due"], now)
            finished = await conn.fetchval(Q["finished_since"], now - FINISHED_WINDOW)
            return queue_stats(counts, oldest_due=oldest, finished=finished, now=now)

        return await self._db.run(op, name="stats")

    async def prune(
        self,
        *,
        older_than: float | None = None,
        keep: int | None = None,
        statuses: Sequence[JobStatus] = (),
        progress: ProgressCallback | None = None,
    ) -> int:
        return await prune_history(
            self,
            older_than=older_than,
            keep=keep,
            statuses=statuses,
            progress=progress,
            batch=PRUNE_BATCH,
        )

    async def keep_cut(self, keep: int, statuses: Sequence[JobStatus]) -> Cut | None:
        params = (*_status_filter(statuses), keep)
        row = await self._db.run(
            lambda conn: conn.fetchrow(Q["keep_boundary"], *params), name="prune"
        )
        return None if row is None else Cut(row[0], through_id=row[1])

    async def delete_batch(self, cut: Cut, statuses: Sequence[JobStatus], limit: int) -> int:
        params = (cut.finished_at, cut.through_id, *_status_filter(statuses), limit)
        # Deleting finished rows again is harmless: a batch may be retried.
        tag = await self._db.run(
            lambda conn: conn.execute(Q["delete_batch"], *params), name="prune"
        )
        return _affected(tag)

    # -- breakers -----------------------------------------------------------------------

    async def breakers(self) -> builtins.list[BreakerState]:
        rows = await self._db.run(lambda conn: conn.fetch(Q["breakers"]), name="breakers")
        return [row_to_breaker(row) for row in rows]

    async def update_breaker(self, name: str, transition: BreakerTransition) -> BreakerState | None:
        async def op(conn: Any) -> BreakerState | None:
            await conn.execute(Q["lock_breaker"], name)
            row = await conn.fetchrow(Q["get_breaker"], name)
            new = transition(None if row is None else row_to_breaker(row))
            check_breaker_name(name, new)
            if new is None:
                await conn.execute(Q["delete_breaker"], name)
            else:
                await conn.execute(Q["put_breaker"], *breaker_params(new))
            return new

        return await self._db.run(op, name="update breaker", transaction=True)

    # -- the shared event log -----------------------------------------------------------

    async def append_events(self, events: Sequence[Event]) -> None:
        await self._events.append(events)

    async def read_events(self, after_id: int, limit: int) -> builtins.list[Event]:
        return await self._events.read(after_id, limit)

    async def last_event_id(self) -> int:
        return await self._events.last_id()

    # -- wake-ups and lifecycle ------------------------------------------------------------

    def watch_changes(self) -> PostgresWatch:
        """A watch on NOTIFYs from any process (work added, events appended)."""
        return PostgresWatch(self._listener)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._adder.drain()
            await self._completions.drain()
            await self._listener.close()
        finally:
            await self._db.close()


__all__ = ["PostgresStorage", "StorageError", "redact_url"]
