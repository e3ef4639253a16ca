"""SQLite's wake-ups across processes: inotify on the WAL file, the version that filters a
handle's own writes, and the polling fallback.

Real files and real SQLite connections throughout; a second handle stands for another
process (it is another connection, and inotify hears writes to a file whoever makes them).
Waits are bounded by an hour, so only what the test does can end them; the guard only
stops a broken watcher from hanging the suite.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.models import NewJob
from relayarr.jobqueue.storage import ChangeWatch, open_storage
from relayarr.jobqueue.storage.sqlite import SQLiteStorage, inotify
from relayarr.jobqueue.storage.sqlite.wake import WalWatcher

pytestmark = pytest.mark.skipif(not inotify.supported(), reason="inotify is Linux only")

HANG_GUARD = 60.0
FOREVER = 3600.0
SETTLE = 0.05  # seconds a wait is given to show that it sleeps


def new_job(clock: FakeClock) -> NewJob:
    return NewJob.create("t", {"n": 1}, now=clock.now())


async def open_sqlite(path: Path, clock: FakeClock) -> SQLiteStorage:
    storage = await open_storage(f"sqlite:///{path}", clock=clock)
    assert isinstance(storage, SQLiteStorage)
    return storage


@pytest.fixture
async def two_handles(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStorage, SQLiteStorage]]:
    clock = FakeClock()
    mine = await open_sqlite(tmp_path / "queue.db", clock)
    other = await open_sqlite(tmp_path / "queue.db", clock)
    try:
        yield mine, other
    finally:
        await mine.aclose()
        await other.aclose()


async def asleep(watch: ChangeWatch) -> asyncio.Task[None]:
    """A wait in a task, once it sleeps (the first wait of a watch returns at once)."""
    for _ in range(3):
        waiting = asyncio.create_task(watch.wait(FOREVER))
        await asyncio.sleep(SETTLE)
        if not waiting.done():
            return waiting
        await waiting
    raise AssertionError("the watch keeps waking though nothing changes")


async def test_the_capability_says_waits_are_instant_where_inotify_works(
    tmp_path: Path,
) -> None:
    storage = await open_sqlite(tmp_path / "queue.db", FakeClock())
    try:
        assert storage.capabilities.instant_wakeups
    finally:
        await storage.aclose()


async def test_commits_that_only_finish_jobs_wake_nobody(
    two_handles: tuple[SQLiteStorage, SQLiteStorage],
) -> None:
    """Completions and heartbeats, this handle's own and another process's, make no work
    due: an idle worker beside busy ones must sleep on (no spinning); an add ends it."""
    mine, other = two_handles
    clock = FakeClock()
    await other.add([new_job(clock) for _ in range(20)])
    held = [*await mine.claim("me", ["t"], 10, 30.0), *await other.claim("it", ["t"], 10, 30.0)]
    watch = mine.watch_changes()
    waiting = await asleep(watch)
    for index, job in enumerate(held):
        handle = mine if index < 10 else other
        await handle.heartbeat(job.lease, 30.0)
        await handle.complete(job.lease, None)
    await asyncio.sleep(SETTLE)
    assert not waiting.done(), "a completion or a heartbeat woke an idle watch"
    await other.add([new_job(clock)])
    await asyncio.wait_for(waiting, HANG_GUARD)


@pytest.mark.parametrize("how", ["release", "retry later", "retry from history", "rescue"])
async def test_a_job_back_to_pending_wakes(
    two_handles: tuple[SQLiteStorage, SQLiteStorage], how: str
) -> None:
    """No new id comes with a job put back to pending: the requeue count does the waking."""
    mine, other = two_handles
    clock = other.clock
    assert isinstance(clock, FakeClock)
    await other.add([new_job(clock)])
    [job] = await other.claim("it", ["t"], 1, 30.0)
    if how == "retry from history":
        await other.fail(job.lease, "boom", None)
    watch = mine.watch_changes()
    waiting = await asleep(watch)
    if how == "release":
        await other.release(job.lease)
    elif how == "retry later":
        await other.fail(job.lease, "boom", clock.now() + 60)
    elif how == "retry from history":
        await other.retry(job.id)
    else:
        clock.advance(31)  # the lease expired
        [rescued] = await other.reclaim([], max_rescues=3)
        assert rescued.id == job.id
    await asyncio.wait_for(waiting, HANG_GUARD)


async def test_a_commit_after_a_truncating_checkpoint_still_wakes(
    two_handles: tuple[SQLiteStorage, SQLiteStorage], tmp_path: Path
) -> None:
    """``wal_checkpoint(TRUNCATE)`` empties the WAL file in place; the watch stays on it."""
    mine, other = two_handles
    clock = FakeClock()
    await other.add([new_job(clock)])
    checkpointer = sqlite3.connect(tmp_path / "queue.db", isolation_level=None)
    try:
        watch = mine.watch_changes()
        waiting = await asleep(watch)
        busy, _, _ = checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
        assert (tmp_path / "queue.db-wal").stat().st_size == 0
        waiting = waiting if not waiting.done() else await asleep(watch)
        await other.add([new_job(clock)])
        await asyncio.wait_for(waiting, HANG_GUARD)
    finally:
        checkpointer.close()


async def test_a_wal_file_made_again_is_watched_again(tmp_path: Path) -> None:
    """Once every connection closed, SQLite removes the WAL file and the next one makes it
    again: the directory watch finds the new file. Here the file is removed and made by
    hand, and the version the watcher compares is the test's own counter."""
    wal = tmp_path / "queue.db-wal"
    wal.write_bytes(b"")
    version = [1]
    watcher = WalWatcher(tmp_path / "queue.db", lambda: version[0], "test")
    try:
        await asyncio.wait_for(watcher.wait(None, FOREVER), HANG_GUARD)  # takes its place
        wal.unlink()
        waiting = asyncio.create_task(watcher.wait(1, FOREVER))
        await asyncio.sleep(SETTLE)
        assert not waiting.done()
        wal.write_bytes(b"frames")  # made again, and written: a commit is coming
        version[0] = 2
        assert await asyncio.wait_for(waiting, HANG_GUARD) == 2
        # And writes to the new file are heard as well.
        waiting = asyncio.create_task(watcher.wait(2, FOREVER))
        await asyncio.sleep(SETTLE)
        assert not waiting.done()
        version[0] = 3
        with wal.open("ab") as file:
            file.write(b"more frames")
        assert await asyncio.wait_for(waiting, HANG_GUARD) == 3
    finally:
        watcher.close()


async def test_a_commit_that_shows_after_its_write_is_still_found(tmp_path: Path) -> None:
    """A commit writes its frames, then (after an fsync with synchronous=full) makes them
    visible in shared memory, which inotify does not see: the version is looked at again
    for a while after a write, so the commit is found though no write follows it."""
    wal = tmp_path / "queue.db-wal"
    wal.write_bytes(b"")
    version = [1]
    watcher = WalWatcher(tmp_path / "queue.db", lambda: version[0], "test")
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(watcher.wait(None, FOREVER), HANG_GUARD)
        waiting = asyncio.create_task(watcher.wait(1, FOREVER))
        await asyncio.sleep(SETTLE)
        with wal.open("ab") as file:
            file.write(b"frames")  # the write is heard; the commit is not visible yet

        def commit() -> None:
            version[0] = 2

        loop.call_later(0.01, commit)
        assert await asyncio.wait_for(waiting, HANG_GUARD) == 2
    finally:
        watcher.close()


async def test_without_inotify_waits_poll_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The per-user inotify limit reached (EMFILE from inotify_init1): a warning, the
    capability turns off, and another handle's commit is still found, by polling."""

    def refuse() -> inotify.Inotify:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    monkeypatch.setattr(inotify, "Inotify", refuse)
    clock = FakeClock()
    mine = await open_sqlite(tmp_path / "queue.db", clock)
    other = await open_sqlite(tmp_path / "queue.db", clock)
    try:
        watch = mine.watch_changes()
        with caplog.at_level(logging.WARNING):
            await asyncio.wait_for(watch.wait(FOREVER), HANG_GUARD)
        assert "fall back to polling" in caplog.text
        assert not mine.capabilities.instant_wakeups
        waiting = await asleep(watch)
        await other.add([new_job(clock)])
        await asyncio.wait_for(waiting, HANG_GUARD)
    finally:
        await mine.aclose()
        await other.aclose()


async def test_closing_the_handle_ends_its_waits(tmp_path: Path) -> None:
    storage = await open_sqlite(tmp_path / "queue.db", FakeClock())
    watch = storage.watch_changes()
    waiting = await asleep(watch)
    await storage.aclose()
    await asyncio.wait_for(waiting, HANG_GUARD)
    await asyncio.wait_for(watch.wait(FOREVER), HANG_GUARD)
