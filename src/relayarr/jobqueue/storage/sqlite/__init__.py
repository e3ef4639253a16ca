"""The SQLite engine: the embedded default, zero set-up, several processes on one file.

``sqlite:///data/queue.db`` (relative) or ``sqlite:////var/lib/relayarr/queue.db``
(absolute); options ``?synchronous=normal|full`` and ``?busy_timeout=SECONDS``.

Writes go through the group-committing :class:`Writer`; point reads run on the event loop
(index lookups of microseconds); listings, stats and checkpoints run on threads.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.errors import (
    JobNotFound,
    StorageError,
    StorageUnavailable,
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
from relayarr.jobqueue.storage import BreakerTransition, Capabilities, ProgressCallback
from relayarr.jobqueue.storage.pruning import Cut, prune_history
from relayarr.jobqueue.storage.rules import check_importable
from relayarr.jobqueue.storage.sql import row_to_breaker, row_to_job
from relayarr.jobqueue.storage.sqlite import importing, ops
from relayarr.jobqueue.storage.sqlite.connection import (
    WRITER_CACHE_KIB,
    SQLiteOptions,
    connect,
    translate,
)
from relayarr.jobqueue.storage.sqlite.migrate import LATEST, apply_migrations
from relayarr.jobqueue.storage.sqlite.ops import Q
from relayarr.jobqueue.storage.sqlite.wake import SQLiteWatch, WalWatcher
from relayarr.jobqueue.storage.sqlite.writer import Writer

T = TypeVar("T")
log = logging.getLogger(__name__)

HEAVY_BATCH = 500  # adds larger than this run on the writer thread
PRUNE_BATCH = 2000  # history rows one statement of a prune deletes
CHECKPOINT_EVERY = 1000  # commits between passive checkpoints
EVENT_TRIM_EVERY = 1000  # appended events between trims of the event log

_INSTANT = Capabilities(
    engine="sqlite",
    multi_process=True,
    multi_host=False,
    cross_process_events=True,
    instant_wakeups=True,
)
_POLLING = dataclasses.replace(_INSTANT, instant_wakeups=False)


class SQLiteStorage:
    """Storage on one SQLite file in WAL mode. Open with :func:`open_storage`."""

    def __init__(self, options: SQLiteOptions, clock: Clock, *, create: bool) -> None:
        self._options = options
        self._clock = clock
        self._where = str(options.path)
        self._write_conn = connect(options, create=create, cache_kib=WRITER_CACHE_KIB)
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
        self._wal = WalWatcher(options.path, self._wake_mark, self._where)
        self._mark_version: int | None = None  # PRAGMA data_version when _mark was read
        self._mark: tuple[object, ...] = ()
        self._closed = False

    @property
    def capabilities(self) -> Capabilities:
        return _INSTANT if self._wal.instant else _POLLING

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
        if len(jobs) == 1 and jobs[0].unique_key is None:
            new = jobs[0]
            return await self._writer.run(lambda conn: ops.insert_one(conn, new, now), eager=True)
        return await self._writer.run(
            lambda conn: ops.add(conn, jobs, now), heavy=len(jobs) > HEAVY_BATCH, eager=True
        )

    # -- the worker's path ---------------------------------------------------------------

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        if limit < 1 or not types:
            return []
        now = self._clock.now()
        return await self._writer.run(
            lambda conn: ops.claim(conn, owner, types, limit, lease_seconds, now)
        )

    async def next_due(self, types: Sequence[str]) -> float | None:
        if not types:
            return None
        row = self._read(Q["next_due"], (json.dumps(list(types)),)).fetchone()
        return None if row is None else row[0]

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> float:
        now = self._clock.now()
        expires = now + lease_seconds
        return await self._writer.run(lambda conn: ops.heartbeat(conn, lease, now, expires))

    async def complete(
        self, lease: Lease, result_json: str | None, follow_ups: Sequence[NewJob] = ()
    ) -> tuple[Job, list[Added]]:
        now = self._clock.now()
        return await self._writer.run(
            lambda conn: ops.complete(conn, lease, result_json, follow_ups, now)
        )

    async def fail(self, lease: Lease, error: str, retry_at: float | None) -> Job:
        now = self._clock.now()
        return await self._writer.run(lambda conn: ops.fail(conn, lease, error, retry_at, now))

    async def release(
        self, lease: Lease, run_at: float | None = None, note: str | None = None
    ) -> Job:
        now = self._clock.now()
        return await self._writer.run(lambda conn: ops.release(conn, lease, now, run_at, note))

    # -- steering ------------------------------------------------------------------------

    async def cancel(self, job_id: JobId) -> Job:
        now = self._clock.now()
        return await self._writer.run(lambda conn: ops.cancel(conn, job_id, now))

    async def retry(self, job_id: JobId) -> Job:
        now = self._clock.now()
        return await self._writer.run(lambda conn: ops.retry(conn, job_id, now))

    async def reclaim(self, dead_owners: Sequence[str], max_rescues: int) -> list[Job]:
        now = self._clock.now()
        return await self._writer.run(lambda conn: ops.reclaim(conn, dead_owners, max_rescues, now))

    async def lease_owners(self) -> list[str]:
        return [row[0] for row in self._read(Q["lease_owners"], ()).fetchall()]

    # -- reading ------------------------------------------------------------------------

    async def ping(self) -> None:
        self._read(Q["ping"], ()).fetchall()

    async def get(self, job_id: JobId) -> Job:
        row = self._read(Q["get_active"], (job_id,)).fetchone()
        if row is None:
            row = self._read(Q["get_history"], (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return row_to_job(row)

    async def list(self, query: JobQuery) -> Page:
        return await self._in_background(lambda conn: ops.list_jobs(conn, query))

    async def stats(self) -> QueueStats:
        now = self._clock.now()
        return await self._in_background(lambda conn: ops.stats(conn, now))

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
        params = {**_status_filter(statuses), "keep": keep}
        row = await self._in_background(
            lambda conn: conn.execute(Q["keep_boundary"], params).fetchone()
        )
        return None if row is None else Cut(row[0], through_id=row[1])

    async def delete_batch(self, cut: Cut, statuses: Sequence[JobStatus], limit: int) -> int:
        params = {
            **_status_filter(statuses),
            "finished": cut.finished_at,
            "through": cut.through_id,
            "batch": limit,
        }
        return await self._writer.run(lambda conn: ops.delete_batch(conn, params), heavy=True)

    # -- breakers -----------------------------------------------------------------------

    async def breakers(self) -> builtins.list[BreakerState]:
        return [row_to_breaker(row) for row in self._read(Q["breakers"], ()).fetchall()]

    async def update_breaker(self, name: str, transition: BreakerTransition) -> BreakerState | None:
        return await self._writer.run(lambda conn: ops.update_breaker(conn, name, transition))

    # -- receiving moved jobs (JobImport) ---------------------------------------------------

    async def import_jobs(self, jobs: Sequence[Job]) -> int:
        if not jobs:
            return 0
        check_importable(jobs)
        stored: int = await self._writer.run(lambda conn: importing.import_jobs(conn, jobs))
        return stored

    # -- the shared event log -----------------------------------------------------------

    async def append_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = ops.event_rows(events)

        def append(conn: sqlite3.Connection) -> None:
            conn.executemany(Q["append_event"], rows)
            self._events_since_trim += len(rows)
            if self._events_since_trim >= EVENT_TRIM_EVERY:
                self._events_since_trim = 0
                conn.execute(Q["trim_events"], {"keep": self._options.event_retention})

        await self._writer.run(append, heavy=len(rows) > HEAVY_BATCH)

    async def read_events(self, after_id: int, limit: int) -> builtins.list[Event]:
        if limit < 1:
            return []
        return await self._in_background(lambda conn: ops.read_events(conn, after_id, limit))

    async def last_event_id(self) -> int:
        return int(self._read(Q["last_event_id"], ()).fetchone()[0])

    # -- wake-ups and lifecycle ------------------------------------------------------------

    def watch_changes(self) -> SQLiteWatch:
        """A watch on other processes' commits (see :mod:`.wake`: inotify on the WAL file,
        polling where that is unavailable; ``capabilities.instant_wakeups`` says which)."""
        return SQLiteWatch(self._wal)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wal.close()
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

    def _wake_mark(self) -> tuple[object, ...]:
        """What moves when another process made work due or appended events (the largest
        job id, the requeue count, the largest event id), read again only when the
        database changed at all (``PRAGMA data_version``)."""
        version = int(self._read("PRAGMA data_version", ()).fetchone()[0])
        if version != self._mark_version:
            self._mark = tuple(self._read(Q["wake_mark"], ()).fetchone())
            self._mark_version = version
        return self._mark

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


def _status_filter(statuses: Sequence[JobStatus]) -> dict[str, Any]:
    """The status parameters of keep_boundary and delete_batch: any finished status when
    ``statuses`` is empty."""
    return {
        "any_status": not statuses,
        "statuses": json.dumps([JobStatus(status).value for status in statuses]),
    }


__all__ = ["SQLiteStorage", "StorageError"]
