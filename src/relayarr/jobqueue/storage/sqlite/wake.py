"""Wake-ups across processes on SQLite: writes to the WAL file, heard through inotify.

Every commit in WAL mode writes its pages to ``<db>-wal``, so an inotify watch on that file
hears every other process's commit without polling. What is compared is a *mark* that
moves only when work may have become due or events were appended: the largest job id in
the active and history tables (every add raises it; finishing a job only moves it between
them), a count of jobs put back to pending (release, rescue, retry, import) and the
largest event id. It is read again only when ``PRAGMA data_version`` says the
database changed. So the commits that only finish or heartbeat jobs (other processes' and
this one's own) wake nobody: an idle worker beside busy ones does not spin on their
completions, as PostgreSQL's NOTIFY and Redis's wake-up key also spare it.

A commit writes its frames first and becomes visible a moment later, when the writer updates
the WAL index in shared memory, which inotify does not see (with ``synchronous=full`` the
frames are even fsynced in between). So after a write whose commit is not visible yet, the
mark is looked at again on a doubling schedule (0.5 ms, 1 ms, 2 ms ...) for
:data:`SETTLE_WINDOW`; a commit slower than that is found by the caller's poll.

The watch is on the file (``IN_MODIFY``) and on its directory (``IN_CREATE``, ``IN_MOVED_TO``)
so that a WAL file removed and made again (after every connection closed) is watched anew.
Checkpoints truncate or rewrite the file in place: the watch stays. Where inotify is missing
(not Linux) or refused (the per-user limits), waits poll the mark every
:data:`POLL_INTERVAL` and the storage's capabilities say ``instant_wakeups=False``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Hashable
from pathlib import Path

from relayarr.jobqueue.errors import StorageError
from relayarr.jobqueue.storage.beacon import Beacon
from relayarr.jobqueue.storage.sqlite import inotify

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.05  # seconds between looks at the mark without inotify
FIRST_SETTLE = 0.0005  # seconds: the first look again after a write not yet visible
SETTLE_WINDOW = 0.128  # seconds after a write during which the mark is looked at again
BUSY_RETRY = 0.001  # seconds: the mark could not be read just now (WAL recovery)

Mark = Hashable


class WalWatcher:
    """One per storage handle: hears writes to its WAL file, and wakes waiters when the
    mark moved.

    The descriptor is read only while someone waits (a drain, whose dispatcher never
    waits, pays nothing for it); events meanwhile wait in the kernel, where identical ones
    fold into one. Each batch of events costs one look at the mark, made here once for
    every waiter.
    """

    def __init__(self, database: Path, mark: Callable[[], Mark], where: str) -> None:
        path = database.absolute()
        self._directory = str(path.parent)
        self._wal_name = path.name + "-wal"
        self._wal_path = str(path.parent / self._wal_name)
        self._mark = mark
        self._where = where
        self.beacon = Beacon()  # the mark seen to move (or the watch to be lost)
        self._inotify: inotify.Inotify | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wal_wd = -1
        self._directory_wd = -1
        self._waiters = 0
        self._reading = False  # the descriptor is registered with the loop
        self._seen: Mark | None = None  # the mark at the last look
        self._last_write = -math.inf  # loop time of the last WAL write heard
        self._look_again: asyncio.TimerHandle | None = None
        self._failed = not inotify.supported()
        self.closed = False

    @property
    def instant(self) -> bool:
        """Whether waits end at another process's commit (else they poll)."""
        return not self._failed

    async def wait(self, place: Mark | None, max_wait: float) -> Mark | None:
        """Sleep while the mark is still ``place`` (None: no place yet), at most
        ``max_wait``; return the mark to keep as the new place."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        self._ensure_watching(loop)
        self._enter()
        try:
            while True:
                heard = self.beacon.count
                mark = self._read_mark()
                if mark is not None and mark != place:
                    return mark
                now = loop.time()
                if now >= deadline or self.closed:
                    return place
                wake_at = deadline
                if mark is None:
                    wake_at = now + BUSY_RETRY
                elif self._inotify is None:
                    wake_at = now + POLL_INTERVAL
                await self.beacon.wait_past(heard, min(deadline, wake_at))
        finally:
            self._leave()

    def _read_mark(self) -> Mark | None:
        try:
            return self._mark()
        except StorageError:
            return None  # a reader can be refused for a moment (WAL recovery): look again

    # -- looking at the mark ---------------------------------------------------------------

    def _look(self) -> None:
        """Wake the waiters if the mark moved; shortly after a write, look again later
        (its commit may not be visible yet), sooner the fresher the write."""
        self._look_again = None
        if self._loop is None or not self._waiters:
            return
        mark = self._read_mark()
        if mark is None:
            self._schedule(BUSY_RETRY)
            return
        if mark != self._seen:
            self._seen = mark
            self.beacon.signal()
        age = self._loop.time() - self._last_write
        if age < SETTLE_WINDOW:
            self._schedule(max(FIRST_SETTLE, age))

    def _schedule(self, delay: float) -> None:
        if self._look_again is None and self._loop is not None:
            self._look_again = self._loop.call_later(delay, self._look)

    def _enter(self) -> None:
        self._waiters += 1
        if self._waiters > 1 or self._inotify is None or self._loop is None:
            return
        self._loop.add_reader(self._inotify.fileno(), self._readable)
        self._reading = True
        # A write heard while nobody waited may belong to a commit not yet visible.
        if self._loop.time() - self._last_write < SETTLE_WINDOW:
            self._schedule(FIRST_SETTLE)

    def _leave(self) -> None:
        self._waiters -= 1
        if self._waiters:
            return
        if self._look_again is not None:
            self._look_again.cancel()
            self._look_again = None
        self._stop_reading()

    def _stop_reading(self) -> None:
        loop, watcher = self._loop, self._inotify
        if self._reading and watcher is not None and loop is not None and not loop.is_closed():
            loop.remove_reader(watcher.fileno())
        self._reading = False

    # -- inotify -----------------------------------------------------------------------------

    def _ensure_watching(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._failed or self.closed or self._loop is loop:
            return
        self._stop_watching()
        try:
            watcher = inotify.Inotify()
            try:
                self._directory_wd = watcher.add_watch(
                    self._directory, inotify.IN_CREATE | inotify.IN_MOVED_TO | inotify.IN_ONLYDIR
                )
                self._inotify = watcher
                self._watch_wal()
            except BaseException:
                self._inotify = None
                watcher.close()
                raise
        except OSError as exc:
            self._fall_back(exc)
            return
        self._loop = loop

    def _watch_wal(self) -> None:
        assert self._inotify is not None
        try:
            self._wal_wd = self._inotify.add_watch(self._wal_path, inotify.IN_MODIFY)
        except FileNotFoundError:
            self._wal_wd = -1  # the directory watch says when it is there again

    def _readable(self) -> None:
        assert self._inotify is not None
        written = False
        try:
            for event in self._inotify.read():
                if event.mask & inotify.IN_Q_OVERFLOW:
                    written = True  # events were dropped: any of them may have been a commit
                elif event.wd == self._wal_wd:
                    written = True
                    if event.mask & inotify.IN_IGNORED:  # the file is gone
                        self._watch_wal()
                elif event.wd == self._directory_wd and event.name == self._wal_name:
                    written = True  # made again: watch the new file
                    self._watch_wal()
        except OSError as exc:
            self._fall_back(exc)
            self.beacon.signal()  # waiters look once more, then poll
            return
        if written and self._loop is not None:
            self._last_write = self._loop.time()
            if self._look_again is not None:
                self._look_again.cancel()
                self._look_again = None
            self._look()

    def _fall_back(self, exc: OSError) -> None:
        self._failed = True
        self._stop_watching()
        log.warning(
            "sqlite wake-ups across processes fall back to polling every %g s: %s",
            POLL_INTERVAL,
            exc.strerror or exc,
            extra={"service": "sqlite", "where": self._where, "operation": "watch"},
        )

    def _stop_watching(self) -> None:
        if self._look_again is not None:
            self._look_again.cancel()
            self._look_again = None
        self._stop_reading()
        if self._inotify is not None:
            self._inotify.close()
        self._inotify = None
        self._loop = None
        self._wal_wd = self._directory_wd = -1

    def close(self) -> None:
        self.closed = True
        self._stop_watching()
        self.beacon.signal()  # waiters look once more and return


class SQLiteWatch:
    """A :class:`~relayarr.jobqueue.storage.ChangeWatch` on a handle's WAL watcher."""

    def __init__(self, watcher: WalWatcher) -> None:
        self._watcher = watcher
        self._place: Mark | None = None

    async def wait(self, max_wait: float) -> None:
        if self._watcher.closed:
            return
        self._place = await self._watcher.wait(self._place, max_wait)
