"""Group commit: every write of the engine goes through one connection, in batches.

Writes submitted during one turn of the event loop run together in one ``BEGIN IMMEDIATE``
transaction, and every caller is answered only after the COMMIT. Many concurrent adds,
claims and completions therefore cost one commit, not one each.

One failing operation never undoes another, without a savepoint per operation: an
operation refused with a queue error (LeaseLost, JobNotFound...) has written nothing, so it
gets its error and the rest of the batch commits; an operation that fails after writing,
or SQLite failing, rolls the whole batch back, and each of its operations then runs again
in a transaction of its own, so only the faulty one fails.

Where a batch runs:

* inline, on the event loop, for ordinary batches in WAL with ``synchronous=NORMAL``: such a
  commit writes to the WAL without fsync and takes microseconds, less than a thread hop;
* on the writer thread for heavy operations (big batch inserts, prune batches) and for every
  batch when each commit must fsync (``synchronous=FULL``).

The connection never waits for a lock inside SQLite (``busy_timeout = 0``): a locked database
makes the batch retry later with a short backoff, so another process holding the lock never
blocks the event loop. Past the busy timeout the callers get StorageBusy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from relayarr.jobqueue.errors import JobQueueError, StorageBusy, StorageUnavailable
from relayarr.jobqueue.storage.sqlite.connection import is_busy, translate

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], Any]

log = logging.getLogger(__name__)

_BUSY = object()


class _Isolate(Exception):
    """An operation failed after writing: roll the batch back and run its operations apart."""


@dataclass(slots=True)
class _Pending:
    op: Op
    future: asyncio.Future[Any]
    heavy: bool


class Writer:
    """Serialises and batches write operations on one connection."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        where: str,
        *,
        threaded: bool,
        busy_timeout: float,
        on_commit: Callable[[int], None],
    ) -> None:
        self._conn = conn
        self._cursor = conn.cursor()
        self._where = where
        self._threaded = threaded
        self._busy_timeout = busy_timeout
        self._on_commit = on_commit
        self._queue: list[_Pending] = []
        self._running = False
        self._busy_since: float | None = None
        self._busy_delay = 0.001
        self._closed = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="relayarr-sqlite-writer")
        self._loop: asyncio.AbstractEventLoop | None = None
        self.commits = 0
        self._idle = asyncio.Event()  # set whenever no batch is queued or running

    async def run(
        self, op: Callable[[sqlite3.Connection], T], *, heavy: bool = False, eager: bool = False
    ) -> T:
        """Run ``op(conn)`` inside a write transaction; return its result after COMMIT.

        ``eager``: when the writer is idle, commit at once in the caller's turn instead of
        waiting one loop turn for company. Right for a caller that writes one thing at a
        time (a producer adding jobs); operations that usually come in crowds (claims,
        completions) leave it off so they share commits.
        """
        if self._closed:
            raise StorageUnavailable("storage is closed", where=self._where)
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        if eager and not self._running and not self._threaded and not heavy:
            outcome = self._execute_now(op)
            if outcome is not _BUSY:
                return outcome  # type: ignore[no-any-return]
            # Another process holds the lock: queue it, to retry with backoff off the loop.
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Pending(op, future, heavy))
        if not self._running:
            self._running = True
            loop.call_soon(self._flush)
        result: T = await future
        return result

    def _execute_now(self, op: Op) -> Any:
        """One operation in a transaction of its own, in the caller's turn (the writer is
        idle): its result, or _BUSY when another process holds the write lock. Nothing else
        can start a batch meanwhile: this never yields to the loop."""
        execute = self._cursor.execute  # a kept cursor: no new Cursor per statement
        try:
            execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if is_busy(exc):
                return _BUSY
            raise translate(exc, self._where) from exc
        try:
            result = op(self._conn)
            execute("COMMIT")
        except Exception as exc:
            self._rollback()
            error = self._error(exc)
            if error is exc:
                raise
            raise error from exc
        self._busy_since = None
        self.commits += 1
        self._on_commit(1)
        return result

    def _flush(self) -> None:
        batch = [pending for pending in self._queue if not pending.future.done()]
        self._queue = []
        if not batch:
            self._stop_running()
            return
        assert self._loop is not None
        if self._threaded or any(pending.heavy for pending in batch):
            task = self._loop.run_in_executor(self._executor, self._execute, batch)
            task.add_done_callback(lambda done: self._settle(batch, done.result()))
        else:
            self._settle(batch, self._execute(batch))

    def _execute(self, batch: list[_Pending]) -> object:
        """Run a batch in one transaction. Returns _BUSY, or a list of (ok, value).

        An operation's queue error (LeaseLost, JobNotFound...) comes before it writes
        anything, so it is that operation's answer and the batch goes on. If an operation
        fails after it has written, or SQLite itself fails, the batch is rolled back and
        each operation is run again in a transaction of its own, so only the faulty one
        fails.
        """
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            return _BUSY if is_busy(exc) else [(False, translate(exc, self._where))] * len(batch)
        results: list[tuple[bool, Any]] = []
        try:
            for pending in batch:
                before = conn.total_changes
                try:
                    results.append((True, pending.op(conn)))
                except JobQueueError as exc:
                    if conn.total_changes != before:
                        raise _Isolate from exc
                    results.append((False, exc))
            conn.execute("COMMIT")
        except (_Isolate, Exception) as exc:
            self._rollback()
            if len(batch) == 1:
                cause = exc.__cause__ if isinstance(exc, _Isolate) else exc
                assert isinstance(cause, Exception)
                return [(False, self._error(cause))]
            return self._execute_each(batch)
        return results

    def _execute_each(self, batch: list[_Pending]) -> object:
        results: list[tuple[bool, Any]] = []
        for pending in batch:
            outcome = self._execute([pending])
            if outcome is _BUSY:
                # Another process took the lock between our transactions; rare enough
                # to report as busy for this one operation rather than loop here.
                results.append((False, StorageBusy("database is locked", where=self._where)))
            else:
                assert isinstance(outcome, list)
                results.extend(outcome)
        return results

    def _error(self, exc: Exception) -> Exception:
        if isinstance(exc, JobQueueError):
            return exc
        if isinstance(exc, sqlite3.Error):
            return translate(exc, self._where)
        return exc

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed", extra={"service": "sqlite", "where": self._where})

    def _settle(self, batch: list[_Pending], outcome: object) -> None:
        assert self._loop is not None
        if outcome is _BUSY:
            self._retry_busy(batch)
            return
        self._busy_since = None
        self._busy_delay = 0.001
        assert isinstance(outcome, list)
        committed = 0
        for pending, (ok, value) in zip(batch, outcome, strict=True):
            committed += ok
            if pending.future.done():
                continue
            if ok:
                pending.future.set_result(value)
            else:
                pending.future.set_exception(value)
        if committed:
            self.commits += 1
            self._on_commit(committed)
        if self._queue:
            self._loop.call_soon(self._flush)
        else:
            self._stop_running()

    def _retry_busy(self, batch: list[_Pending]) -> None:
        assert self._loop is not None
        now = time.monotonic()
        if self._busy_since is None:
            self._busy_since = now
        if now - self._busy_since > self._busy_timeout:
            error = StorageBusy(
                f"database stayed locked by another process for over {self._busy_timeout:g}s",
                where=self._where,
            )
            for pending in batch + self._queue:
                if not pending.future.done():
                    pending.future.set_exception(error)
            self._queue = []
            self._stop_running()
            self._busy_since = None
            return
        # Keep the batch at the front; anything queued meanwhile joins it.
        self._queue = batch + self._queue
        delay = self._busy_delay * (0.5 + random.random())
        self._busy_delay = min(self._busy_delay * 2, 0.025)
        self._loop.call_later(delay, self._flush)

    def _stop_running(self) -> None:
        self._running = False
        self._idle.set()

    async def close(self) -> None:
        """Refuse new writes, let queued ones finish, then stop the writer thread."""
        self._closed = True
        if self._running:
            self._idle.clear()
            await self._idle.wait()
        self._executor.shutdown(wait=True)
