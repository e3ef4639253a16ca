"""What is particular to the SQLite engine: URLs, files, locking, group commit, schema.

The behaviour every engine shares is in the conformance suite (tests/contract).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.errors import InvalidURL, StorageBusy, StorageUnavailable
from relayarr.jobqueue.models import BreakerState, JobQuery, NewJob
from relayarr.jobqueue.storage import open_storage
from relayarr.jobqueue.storage.sqlite import SQLiteStorage, ops
from relayarr.jobqueue.storage.sqlite.connection import SQLiteOptions


def new_job(clock: FakeClock, job_type: str = "t", **options: object) -> NewJob:
    return NewJob.create(job_type, {"n": 1}, now=clock.now(), **options)  # type: ignore[arg-type]


async def open_sqlite(path: Path, clock: FakeClock, query: str = "") -> SQLiteStorage:
    storage = await open_storage(f"sqlite:///{path}{query}", clock=clock)
    assert isinstance(storage, SQLiteStorage)
    return storage


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/queue.db", Path("data/queue.db")),
        ("sqlite:////var/lib/relayarr/q.db", Path("/var/lib/relayarr/q.db")),
    ],
)
def test_url_paths_follow_the_three_and_four_slash_convention(url: str, path: Path) -> None:
    assert SQLiteOptions.from_url(url).path == path


def test_url_options_are_parsed_and_full_sync_writes_on_a_thread() -> None:
    options = SQLiteOptions.from_url("sqlite:///q.db?synchronous=FULL&busy_timeout=2.5")
    assert (options.synchronous, options.busy_timeout, options.threaded_writes) == (
        "full",
        2.5,
        True,
    )
    assert not SQLiteOptions.from_url("sqlite:///q.db").threaded_writes


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://host/q.db", "no host"),
        ("sqlite:///:memory:", "file path"),
        ("sqlite://", "file path"),
        ("sqlite:///q.db?synchronous=off", "synchronous"),
        ("sqlite:///q.db?busy_timeout=soon", "busy_timeout"),
        ("sqlite:///q.db?busy_timeout=-1", "busy_timeout"),
        ("sqlite:///q.db?journal=delete", "unknown sqlite URL options: journal"),
    ],
)
def test_bad_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(InvalidURL, match=message):
        SQLiteOptions.from_url(url)


async def test_unknown_scheme_names_the_supported_ones() -> None:
    with pytest.raises(InvalidURL, match="sqlite://"):
        await open_storage("mysql://localhost/q")


async def test_missing_file_is_not_created_without_migrate(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "q.db"
    with pytest.raises(StorageUnavailable, match="does not exist") as info:
        await open_storage(f"sqlite:///{path}", create=False)
    assert str(path) in str(info.value)
    assert not path.exists()


async def test_open_creates_directories_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "q.db"
    storage = await open_storage(f"sqlite:///{path}")
    await storage.aclose()
    again = await open_storage(f"sqlite:///{path}", create=False)
    await again.aclose()


async def test_unmigrated_file_asks_for_migrate(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(StorageUnavailable, match="relayarr migrate"):
        await open_storage(f"sqlite:///{path}", create=False)


async def test_corrupt_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database, just some bytes" * 200)
    with pytest.raises(StorageUnavailable, match="corrupt") as info:
        await open_storage(f"sqlite:///{path}")
    assert str(path) in str(info.value)


async def test_writes_of_one_loop_turn_share_one_commit(tmp_path: Path) -> None:
    clock = FakeClock()
    storage = await open_sqlite(tmp_path / "q.db", clock)
    try:
        await storage.add([new_job(clock) for _ in range(50)])
        jobs = await storage.claim("me", ["t"], 50, 30.0)
        before = storage.commits
        await asyncio.gather(*(storage.complete(job.lease, None) for job in jobs))
        assert storage.commits == before + 1
        assert (await storage.stats()).by_type["t"].completed == 50
    finally:
        await storage.aclose()


async def test_concurrent_adds_get_distinct_ids_whether_eager_or_batched(tmp_path: Path) -> None:
    clock = FakeClock()
    for query in ("", "?synchronous=full"):
        storage = await open_sqlite(tmp_path / f"q{len(query)}.db", clock, query)
        try:
            added = await asyncio.gather(*(storage.add([new_job(clock)]) for _ in range(50)))
            assert len({result[0].job.id for result in added}) == 50
        finally:
            await storage.aclose()


async def test_a_bulk_add_stores_exactly_the_jobs_it_returns(tmp_path: Path) -> None:
    """Big adds go through one INSERT over a JSON array: every field must survive that
    encoding exactly as the returned jobs say (odd text, nested payloads, delays given to
    the microsecond, parents), under consecutive ids."""
    clock = FakeClock()
    storage = await open_sqlite(tmp_path / "q.db", clock)
    try:
        parent = (await storage.add([new_job(clock)]))[0].job.id
        now = clock.now()
        jobs = [
            NewJob.create(
                f"type-{n % 7} é\"'",
                {"n": n, "text": 'quote " backslash \\ ✓ \u0000', "nested": [{"f": n / 3}]},
                now=now,
                priority=1 + n % 10,
                delay=0.0 if n % 2 else n * 1.000001,
                max_attempts=1 + n % 5,
                parent_id=parent if n % 3 == 0 else None,
            )
            for n in range(ops.BULK_INSERT + 10)
        ]
        added = await storage.add(jobs)
        assert [item.job.id for item in added] == list(range(parent + 1, parent + 1 + len(jobs)))
        stored = {}
        cursor = None
        while True:
            page = await storage.list(JobQuery(before_id=cursor, limit=1000))
            stored.update({job.id: job for job in page.jobs})
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        for item in added:
            assert stored[item.job.id] == item.job
    finally:
        await storage.aclose()


async def test_ids_are_never_reused_even_after_history_is_pruned(tmp_path: Path) -> None:
    clock = FakeClock()
    storage = await open_sqlite(tmp_path / "q.db", clock)
    try:
        await storage.add([new_job(clock) for _ in range(3)])
        jobs = await storage.claim("me", ["t"], 3, 30.0)
        for job in jobs:
            await storage.complete(job.lease, None)
        assert await storage.prune(keep=0) == 3
        (again,) = await storage.add([new_job(clock)])
        assert again.job.id > max(job.id for job in jobs)
    finally:
        await storage.aclose()


async def test_an_operation_failing_after_writing_does_not_undo_its_neighbours(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    storage = await open_sqlite(tmp_path / "q.db", clock)

    def broken(state: BreakerState | None) -> BreakerState | None:
        raise ValueError("transition bug")

    try:
        results = await asyncio.gather(
            storage.add([new_job(clock)]),
            storage.update_breaker("x", broken),
            storage.add([new_job(clock)]),
            return_exceptions=True,
        )
        assert isinstance(results[1], ValueError)
        stats = await storage.stats()
        assert stats.by_type["t"].pending == 2
    finally:
        await storage.aclose()


async def test_locked_database_is_retried_without_blocking_the_loop(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "q.db"
    storage = await open_sqlite(path, clock)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    ticking = asyncio.create_task(ticker())
    try:
        adding = asyncio.create_task(storage.add([new_job(clock)]))
        await asyncio.sleep(0.1)
        assert not adding.done()  # waiting for the lock...
        assert ticks > 10  # ...while the loop keeps running
        other.execute("COMMIT")
        added = await adding
        assert added[0].created
    finally:
        ticking.cancel()
        other.close()
        await storage.aclose()


async def test_lock_held_past_the_busy_timeout_is_storage_busy(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "q.db"
    storage = await open_sqlite(path, clock, "?busy_timeout=0.2")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageBusy, match="locked") as info:
            await storage.add([new_job(clock)])
        assert str(path) in str(info.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    try:
        assert (await storage.add([new_job(clock)]))[0].created  # usable again
        assert (await storage.stats()).by_type["t"].pending == 1
    finally:
        await storage.aclose()


async def test_full_synchronous_mode_commits_on_the_writer_thread(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "q.db"
    storage = await open_sqlite(path, clock, "?synchronous=full")
    try:
        await storage.add([new_job(clock) for _ in range(3)])
        jobs = await storage.claim("me", ["t"], 10, 30.0)
        assert len(jobs) == 3
        await asyncio.gather(*(storage.complete(job.lease, None) for job in jobs))
        assert (await storage.stats()).by_type["t"].completed == 3
    finally:
        await storage.aclose()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_close_checkpoints_the_wal(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "q.db"
    storage = await open_sqlite(path, clock)
    await storage.add([new_job(clock) for _ in range(2000)])
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0
    await storage.aclose()
    assert not wal.exists() or wal.stat().st_size == 0


async def test_committed_jobs_survive_a_process_that_never_closed(tmp_path: Path) -> None:
    """WAL + synchronous=NORMAL: what COMMIT acknowledged is in the file even if the process
    dies without closing (no checkpoint ran). Simulated by reading through a new connection
    while the storage is still open and un-checkpointed."""
    clock = FakeClock()
    path = tmp_path / "q.db"
    storage = await open_sqlite(path, clock)
    try:
        await storage.add([new_job(clock) for _ in range(10)])
        reader = sqlite3.connect(path)
        assert reader.execute("SELECT count(*) FROM job_queue").fetchone()[0] == 10
        reader.close()
    finally:
        await storage.aclose()


async def test_reads_do_not_wait_for_a_writer_in_another_process(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "q.db"
    storage = await open_sqlite(path, clock)
    added = await storage.add([new_job(clock)])
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        job = await storage.get(added[0].job.id)
        assert job.id == added[0].job.id
    finally:
        other.execute("ROLLBACK")
        other.close()
        await storage.aclose()


async def test_read_only_database_is_named_read_only(tmp_path: Path) -> None:
    """Root ignores file modes, so the file and directory are made immutable instead."""
    folder = tmp_path / "ro"
    path = folder / "q.db"
    storage = await open_storage(f"sqlite:///{path}")
    await storage.aclose()
    if os.geteuid() == 0:
        lock = ["chattr", "+i", str(path), str(folder)]
        unlock = ["chattr", "-i", str(path), str(folder)]
    else:
        lock = ["chmod", "a-w", str(path), str(folder)]
        unlock = ["chmod", "u+w", str(path), str(folder)]
    if shutil.which(lock[0]) is None or subprocess.run(lock, check=False).returncode != 0:
        pytest.skip(f"cannot make a read-only file here with {lock[0]}")
    try:
        for create in (True, False):
            with pytest.raises(StorageUnavailable, match="read-only") as info:
                await open_storage(f"sqlite:///{path}", create=create)
            assert str(path) in str(info.value)
    finally:
        subprocess.run(unlock, check=True)
