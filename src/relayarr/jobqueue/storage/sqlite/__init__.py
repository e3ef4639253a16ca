"""The SQLite engine: the embedded default, zero set-up, several processes on one file.

``sqlite:///data/queue.db`` (relative) or ``sqlite:////var/lib/relayarr/queue.db``
(absolute); options ``?synchronous=normal|full`` and ``?busy_timeout=SECONDS``.

Writes go through the group-committing :class:`Writer`; point reads run on the event loop
(index lookups of microseconds); listings, stats and checkpoints run on threads.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.errors import (
    InvalidTransition,
    JobNotFound,
    LeaseLost,
    StorageError,
    StorageUnavailable,
)
from relayarr.jobqueue.events import Event
from relayarr.jobqueue.models import (
    TERMINAL_STATUSES,
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
    TypeStats,
    dump_json,
)
from relayarr.jobqueue.storage import BreakerTransition, Capabilities, ProgressCallback
from relayarr.jobqueue.storage.sql import load_queries
from relayarr.jobqueue.storage.sqlite.connection import SQLiteOptions, connect, translate
from relayarr.jobqueue.storage.sqlite.migrate import LATEST, apply_migrations
from relayarr.jobqueue.storage.sqlite.rows import (
    breaker_params,
    history_params,
    history_row,
    row_to_breaker,
    row_to_event,
    row_to_job,
)
from relayarr.jobqueue.storage.sqlite.writer import Writer

T = TypeVar("T")
_fromtimestamp = datetime.fromtimestamp
log = logging.getLogger(__name__)

Q = load_queries(__name__)
HEAVY_BATCH = 500  # adds larger than this run on the writer thread
PRUNE_BATCH = 2000
CHECKPOINT_EVERY = 1000  # commits between passive checkpoints
EVENT_TRIM_EVERY = 1000  # appended events between trims of the event log
NO_CURSOR = 2**63 - 1


class SQLiteStorage:
    """Storage on one SQLite file in WAL mode. Open with :func:`open_storage`."""

    capabilities = Capabilities(
        engine="sqlite", multi_process=True, multi_host=False, cross_process_events=True
    )

    def __init__(self, options: SQLiteOptions, clock: Clock, *, create: bool) -> None:
        self._options = options
        self._clock = clock
        self._where = str(options.path)
        self._write_conn = connect(options, create=create)
        self._read_conn = connect(options, create=False)
        self._bg_conn = connect(options, create=False)
        self._bg = ThreadPoolExecutor(1, thread_name_prefix="relayarr-sqlite-reader")
        self._writer = Writer(
            self._write_conn,
            self._where,
            threaded=options.threaded_writes,
            busy_timeout=options.busy_timeout,
            on_commit=self._committed,
        )
        self._since_checkpoint = 0
        self._events_since_trim = 0
        self._checkpointing: asyncio.Future[None] | None = None
        self._data_version = 0
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, clock: Clock, create: bool = True) -> SQLiteStorage:
        options = SQLiteOptions.from_url(url)
        storage = await asyncio.to_thread(cls, options, clock, create=create)
        if not create:
            try:
                storage._check_schema()
            except BaseException:
                await storage.aclose()
                raise
        return storage

    def _check_schema(self) -> None:
        version = int(self._read("PRAGMA user_version", ()).fetchone()[0])
        if version < LATEST:
            raise StorageUnavailable(
                f"database schema is at version {version}, this relayarr needs {LATEST} "
                "(run `relayarr migrate`)",
                where=self._where,
            )
        if version > LATEST:
            raise StorageUnavailable(
                f"database schema version {version} is newer than this relayarr knows "
                f"({LATEST}); upgrade relayarr",
                where=self._where,
            )

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def commits(self) -> int:
        """Write transactions committed so far (many operations may share one)."""
        return self._writer.commits

    @property
    def where(self) -> str:
        return self._where

    # -- schema -------------------------------------------------------------------------

    async def migrate(self) -> None:
        await self._writer.run(lambda conn: apply_migrations(conn, self._where), heavy=True)

    # -- adding -------------------------------------------------------------------------

    async def add(self, jobs: Sequence[NewJob]) -> list[Added]:
        if not jobs:
            return []
        now = self._clock.now()
        return await self._writer.run(
            lambda conn: _add(conn, jobs, now), heavy=len(jobs) > HEAVY_BATCH, eager=True
        )

    # -- the worker's path ---------------------------------------------------------------

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        if limit < 1 or not types:
            return []
        now = self._clock.now()
        params = {
            "now": now,
            "owner": owner,
            "token": secrets.token_hex(16),
            "expires": now + lease_seconds,
            "types": json.dumps(list(types)),
            "limit": limit,
        }

        def op(conn: sqlite3.Connection) -> list[Job]:
            rows = conn.execute(Q["claim"], params).fetchall()
            rows.sort(key=lambda row: (row[3], row[7], row[0]))  # RETURNING has no order
            return [row_to_job(row) for row in rows]

        return await self._writer.run(op)

    async def next_due(self, types: Sequence[str]) -> float | None:
        if not types:
            return None
        row = self._read(Q["next_due"], (json.dumps(list(types)),)).fetchone()
        return None if row is None else row[0]

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> float:
        now = self._clock.now()
        expires = now + lease_seconds

        def op(conn: sqlite3.Connection) -> float:
            cursor = conn.execute(Q["heartbeat"], (expires, lease.job_id, lease.token, now))
            if cursor.rowcount != 1:
                raise LeaseLost(lease.job_id)
            return expires

        return await self._writer.run(op)

    async def complete(
        self, lease: Lease, result_json: str | None, follow_ups: Sequence[NewJob] = ()
    ) -> tuple[Job, list[Added]]:
        now = self._clock.now()

        def op(conn: sqlite3.Connection) -> tuple[Job, list[Added]]:
            row = conn.execute(Q["take_leased"], (lease.job_id, lease.token, now)).fetchone()
            if row is None:
                raise LeaseLost(lease.job_id)
            done = _archive(conn, row, JobStatus.COMPLETED, now, None, result_json)
            return done, _add(conn, follow_ups, now) if follow_ups else []

        return await self._writer.run(op)

    async def fail(self, lease: Lease, error: str, retry_at: float | None) -> Job:
        now = self._clock.now()

        def op(conn: sqlite3.Connection) -> Job:
            if retry_at is None:
                row = conn.execute(Q["take_leased"], (lease.job_id, lease.token, now)).fetchone()
                if row is None:
                    raise LeaseLost(lease.job_id)
                return _archive(conn, row, JobStatus.FAILED, now, error, None)
            params = {
                "run_at": retry_at,
                "error": error,
                "uncount": 0,
                "id": lease.job_id,
                "token": lease.token,
                "now": now,
            }
            row = conn.execute(Q["requeue_leased"], params).fetchone()
            if row is None:
                raise LeaseLost(lease.job_id)
            return row_to_job(row)

        return await self._writer.run(op)

    async def release(self, lease: Lease) -> Job:
        now = self._clock.now()

        def op(conn: sqlite3.Connection) -> Job:
            params: dict[str, object] = {
                "run_at": now,
                "error": None,
                "uncount": 1,
                "id": lease.job_id,
                "token": lease.token,
                "now": now,
            }
            # Keep the last error of an earlier attempt: release is not a failure.
            current = conn.execute(Q["get_active"], (lease.job_id,)).fetchone()
            if current is not None:
                params["error"] = current[10]
            row = conn.execute(Q["requeue_leased"], params).fetchone()
            if row is None:
                raise LeaseLost(lease.job_id)
            return row_to_job(row)

        return await self._writer.run(op)

    # -- steering ------------------------------------------------------------------------

    async def cancel(self, job_id: JobId) -> Job:
        now = self._clock.now()

        def op(conn: sqlite3.Connection) -> Job:
            row = conn.execute(Q["take_active"], (job_id,)).fetchone()
            if row is None:
                if conn.execute(Q["get_history"], (job_id,)).fetchone() is not None:
                    raise InvalidTransition(f"job {job_id} has already finished")
                raise JobNotFound(job_id)
            return _archive(conn, row, JobStatus.CANCELLED, now, None, None)

        return await self._writer.run(op)

    async def retry(self, job_id: JobId) -> Job:
        now = self._clock.now()

        def op(conn: sqlite3.Connection) -> Job:
            row = conn.execute(Q["get_history"], (job_id,)).fetchone()
            if row is None:
                if conn.execute(Q["get_active"], (job_id,)).fetchone() is not None:
                    raise InvalidTransition(f"job {job_id} is still active")
                raise JobNotFound(job_id)
            if row[4] == JobStatus.COMPLETED:
                raise InvalidTransition(f"job {job_id} completed; only failed or cancelled jobs")
            unique_key = row[11]
            if unique_key is not None:
                holder = conn.execute(Q["find_unique"], (unique_key,)).fetchone()
                if holder is not None:
                    raise InvalidTransition(
                        f"job {holder[0]} already holds unique key {unique_key!r}"
                    )
            conn.execute(Q["delete_history"], (job_id,))
            conn.execute(
                Q["restore"],
                (row[0], row[1], row[2], row[3], row[6], now, row[8], row[10], unique_key, row[12]),
            )
            restored = conn.execute(Q["get_active"], (job_id,)).fetchone()
            return row_to_job(restored)

        return await self._writer.run(op)

    async def reclaim(self, dead_owners: Sequence[str], max_rescues: int) -> list[Job]:
        now = self._clock.now()
        dead = json.dumps(list(dead_owners))

        def op(conn: sqlite3.Connection) -> list[Job]:
            rescued: list[Job] = []
            for row in conn.execute(Q["stalled"], (now, dead)).fetchall():
                owner = row[13]
                if row[16] + 1 > max_rescues:
                    conn.execute(Q["take_active"], (row[0],))
                    error = (
                        f"poison job: its worker died or lost the lease {row[16] + 1} times "
                        f"(limit {max_rescues}); last owner {owner}"
                    )
                    rescued.append(_archive(conn, row, JobStatus.FAILED, now, error, None))
                    continue
                if row[5] >= row[6]:
                    conn.execute(Q["take_active"], (row[0],))
                    error = (
                        f"worker ({owner}) died or lost the lease during the last allowed "
                        f"attempt ({row[5]} of {row[6]})"
                    )
                    rescued.append(_archive(conn, row, JobStatus.FAILED, now, error, None))
                    continue
                error = row[10] if row[10] else f"rescued after its worker ({owner}) stopped"
                back = conn.execute(Q["rescue"], (now, error, row[0])).fetchone()
                rescued.append(row_to_job(back))
            return rescued

        return await self._writer.run(op)

    async def lease_owners(self) -> list[str]:
        return [row[0] for row in self._read(Q["lease_owners"], ()).fetchall()]

    # -- reading ------------------------------------------------------------------------

    async def get(self, job_id: JobId) -> Job:
        row = self._read(Q["get_active"], (job_id,)).fetchone()
        if row is None:
            row = self._read(Q["get_history"], (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return row_to_job(row)

    async def list(self, query: JobQuery) -> Page:
        return await self._in_background(lambda conn: _list(conn, query))

    async def stats(self) -> QueueStats:
        now = self._clock.now()
        return await self._in_background(lambda conn: _stats(conn, now))

    async def prune(
        self,
        *,
        older_than: float | None = None,
        keep: int | None = None,
        statuses: Sequence[JobStatus] = (),
        progress: ProgressCallback | None = None,
    ) -> int:
        if keep is not None and keep < 0:
            raise ValueError("keep must be >= 0")
        bad = [status for status in statuses if status not in TERMINAL_STATUSES]
        if bad:
            raise InvalidTransition(f"only finished jobs can be pruned, not {bad}")
        filters = {
            "any_status": not statuses,
            "statuses": json.dumps([status.value for status in statuses]),
            "batch": PRUNE_BATCH,
        }
        deleted = 0

        async def drain(name: str, params: dict[str, Any]) -> None:
            nonlocal deleted

            def batch(conn: sqlite3.Connection) -> int:
                conn.execute(Q["raise_id_floor"])
                return int(conn.execute(Q[name], params).rowcount)

            while True:
                count = await self._writer.run(batch, heavy=True)
                deleted += count
                if progress is not None and count:
                    progress(deleted)
                if count < PRUNE_BATCH:
                    return

        if older_than is not None:
            await drain("prune_older", {**filters, "cutoff": older_than})
        if keep is not None:
            boundary = await self._in_background(
                lambda conn: conn.execute(Q["keep_boundary"], {**filters, "keep": keep}).fetchone()
            )
            if boundary is not None:
                await drain("prune_beyond", {**filters, "finished": boundary[0], "id": boundary[1]})
        return deleted

    # -- breakers -----------------------------------------------------------------------

    async def breakers(self) -> builtins.list[BreakerState]:
        return [row_to_breaker(row) for row in self._read(Q["breakers"], ()).fetchall()]

    async def update_breaker(self, name: str, transition: BreakerTransition) -> BreakerState | None:
        def op(conn: sqlite3.Connection) -> BreakerState | None:
            row = conn.execute(Q["get_breaker"], (name,)).fetchone()
            new = transition(None if row is None else row_to_breaker(row))
            if new is None:
                conn.execute(Q["delete_breaker"], (name,))
            else:
                if new.name != name:
                    raise ValueError(f"breaker transition renamed {name!r} to {new.name!r}")
                conn.execute(Q["put_breaker"], breaker_params(new))
            return new

        return await self._writer.run(op)

    # -- the shared event log -----------------------------------------------------------

    async def append_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = [
            (
                event.at.timestamp(),
                event.kind.value,
                event.job_id,
                event.job_type,
                dump_json(dict(event.data), "event data"),
            )
            for event in events
        ]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(Q["append_event"], rows)
            self._events_since_trim += len(rows)
            if self._events_since_trim >= EVENT_TRIM_EVERY:
                self._events_since_trim = 0
                conn.execute(Q["trim_events"], {"keep": self._options.event_retention})

        await self._writer.run(op, heavy=len(rows) > HEAVY_BATCH)

    async def read_events(self, after_id: int, limit: int) -> builtins.list[Event]:
        if limit < 1:
            return []
        return await self._in_background(
            lambda conn: [
                row_to_event(row) for row in conn.execute(Q["read_events"], (after_id, limit))
            ]
        )

    async def last_event_id(self) -> int:
        return int(self._read(Q["last_event_id"], ()).fetchone()[0])

    # -- wake-ups and lifecycle ------------------------------------------------------------

    async def wait_for_change(self, max_wait: float) -> None:
        """Poll SQLite's data_version (a counter bumped by other connections' commits)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        start = self._data_version_now()
        while loop.time() < deadline and not self._closed:
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
            if self._data_version_now() != start:
                return

    def _data_version_now(self) -> int:
        row = self._read("PRAGMA data_version", ()).fetchone()
        return int(row[0]) if row else 0

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._writer.close()
        if self._checkpointing is not None:
            await self._checkpointing
        try:
            await asyncio.get_running_loop().run_in_executor(self._bg, self._final_checkpoint)
        finally:
            self._bg.shutdown(wait=True)
            for conn in (self._write_conn, self._read_conn, self._bg_conn):
                conn.close()

    def _final_checkpoint(self) -> None:
        try:
            self._bg_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:  # another process may hold it; harmless
            log.debug("final checkpoint skipped: %s", exc, extra={"service": "sqlite"})

    # -- internals -------------------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> sqlite3.Cursor:
        if self._closed:
            raise StorageUnavailable("storage is closed", where=self._where)
        try:
            return self._read_conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise translate(exc, self._where) from exc

    async def _in_background(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StorageUnavailable("storage is closed", where=self._where)

        def run() -> T:
            try:
                return fn(self._bg_conn)
            except sqlite3.Error as exc:
                raise translate(exc, self._where) from exc

        return await asyncio.get_running_loop().run_in_executor(self._bg, run)

    def _committed(self, count: int) -> None:
        self._since_checkpoint += count
        if self._since_checkpoint >= CHECKPOINT_EVERY and self._checkpointing is None:
            self._since_checkpoint = 0
            future = asyncio.get_running_loop().run_in_executor(self._bg, self._checkpoint)
            self._checkpointing = asyncio.ensure_future(future)
            self._checkpointing.add_done_callback(self._checkpoint_done)

    def _checkpoint(self) -> None:
        self._bg_conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _checkpoint_done(self, future: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not future.cancelled() and future.exception() is not None:
            log.warning(
                "wal checkpoint failed: %s",
                future.exception(),
                extra={"service": "sqlite", "where": self._where},
            )


def _add(conn: sqlite3.Connection, jobs: Sequence[NewJob], now: float) -> list[Added]:
    """Insert jobs; runs of jobs without unique keys go in one executemany."""
    out: list[Added] = []
    created_at = _fromtimestamp(now, UTC)
    run: list[NewJob] = []
    for new in jobs:
        if new.unique_key is None:
            run.append(new)
            continue
        if run:
            out += _insert_many(conn, run, now, created_at)
            run = []
        row = conn.execute(Q["find_unique"], (new.unique_key,)).fetchone()
        if row is None:
            out += _insert_many(conn, [new], now, created_at)
            continue
        if new.debounce and row[4] == JobStatus.PENDING and new.run_at > row[7]:
            conn.execute(Q["debounce"], (new.run_at, row[0], new.run_at))
            row = (*row[:7], new.run_at, *row[8:])
        out.append(Added(row_to_job(row), created=False))
    if run:
        out += _insert_many(conn, run, now, created_at)
    return out


def _insert_many(
    conn: sqlite3.Connection, jobs: list[NewJob], now: float, created_at: datetime
) -> list[Added]:
    """Insert jobs known not to collide, under consecutive fresh ids (we hold the write lock)."""
    if len(jobs) == 1:
        new = jobs[0]
        first = conn.execute(
            Q["insert_one_job"],
            (
                new.type,
                new.payload_json,
                new.priority,
                new.max_attempts,
                new.run_at,
                now,
                new.unique_key,
                new.parent_id,
            ),
        ).lastrowid
        assert first is not None
    else:
        first = conn.execute(Q["next_id"]).fetchone()[0]
        conn.executemany(
            Q["insert_job"],
            [
                (
                    first + index,
                    new.type,
                    new.payload_json,
                    new.priority,
                    new.max_attempts,
                    new.run_at,
                    now,
                    new.unique_key,
                    new.parent_id,
                )
                for index, new in enumerate(jobs)
            ],
        )
    pending = JobStatus.PENDING
    make_job = Job.from_values
    return [
        Added.new(
            make_job(
                (
                    first + index,
                    new.type,
                    new.payload,
                    new.priority,
                    pending,
                    0,
                    new.max_attempts,
                    created_at if new.run_at == now else _fromtimestamp(new.run_at, UTC),
                    created_at,
                    None,
                    None,
                    None,
                    new.unique_key,
                    new.parent_id,
                    None,
                    None,
                    None,
                    None,
                    0,
                )
            )
        )
        for index, new in enumerate(jobs)
    ]


def _archive(
    conn: sqlite3.Connection,
    row: tuple[Any, ...],
    status: JobStatus,
    now: float,
    error: str | None,
    result: str | None,
) -> Job:
    """Write a row just taken from job_queue into history; the caller already deleted it."""
    conn.execute(Q["insert_history"], history_params(row, status, now, error, result))
    return row_to_job(history_row(row, status, now, error, result))


def _list(conn: sqlite3.Connection, query: JobQuery) -> Page:
    if not 1 <= query.limit <= 1000:
        raise ValueError("limit must be from 1 to 1000")
    statuses = [JobStatus(status) for status in query.statuses]
    params = {
        "before": query.before_id if query.before_id is not None else NO_CURSOR,
        "any_status": not statuses,
        "statuses": json.dumps([status.value for status in statuses]),
        "any_type": not query.types,
        "types": json.dumps(list(query.types)),
        "parent": query.parent_id,
        "unique_key": query.unique_key,
        "limit": query.limit + 1,
    }
    want_active = not statuses or any(status.is_active for status in statuses)
    want_history = not statuses or any(status.is_terminal for status in statuses)
    rows: list[tuple[Any, ...]] = []
    if want_active:
        rows += conn.execute(Q["list_active"], params).fetchall()
    if want_history:
        rows += conn.execute(Q["list_history"], params).fetchall()
    rows.sort(key=lambda row: row[0], reverse=True)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    jobs = [row_to_job(row) for row in rows]
    return Page(jobs=jobs, next_cursor=jobs[-1].id if more and jobs else None)


def _stats(conn: sqlite3.Connection, now: float) -> QueueStats:
    counts: dict[str, dict[str, int]] = {}
    for name in ("count_active", "count_history"):
        for job_type, status, count in conn.execute(Q[name]).fetchall():
            counts.setdefault(job_type, {})[status] = count
    oldest = conn.execute(Q["oldest_due"], (now,)).fetchone()[0]
    finished = conn.execute(Q["finished_since"], (now - 60.0,)).fetchone()[0]
    return QueueStats(
        by_type={job_type: TypeStats(**by_status) for job_type, by_status in counts.items()},
        oldest_pending_age=None if oldest is None else max(0.0, now - oldest),
        finished_last_minute=finished,
    )


__all__ = ["SQLiteStorage", "StorageError"]
