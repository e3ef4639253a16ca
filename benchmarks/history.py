"""A relayarr database whose history already holds a million finished jobs, built quickly.

Going through the queue would take minutes, so one real job is run to completion through
the public API (its history row is then exactly what the engine writes), and SQL copies
that row until the history holds the wanted count: ids follow on from it, and each copy
finished a millisecond before the next, so the ``finished_at`` index looks lived-in. The
only schema assumptions are the ``job_history`` table with ``id`` and ``finished_at``. Where
``job_queue`` ids come from AUTOINCREMENT, its sequence is moved past the copies (as the
engine's own moves into history would have left it); either way a check on a throwaway
copy proves the next job gets a fresh id.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path

from benchmarks.common import JOB_TYPE, sqlite_url
from relayarr.jobqueue import Job, JobQueue, JobStatus, open_storage

SEED = "CREATE TEMP TABLE bench_seed AS SELECT * FROM job_history"
DOUBLE = "INSERT INTO bench_seed SELECT * FROM bench_seed LIMIT ?"
COUNT_SEED = "SELECT count(*) FROM bench_seed"
# Copy k of n (rowid k in the seed table) becomes id template+k, finished (n-k) ms before
# the template job.
RENUMBER = "UPDATE bench_seed SET id = id + rowid, finished_at = finished_at - (? - rowid) * 0.001"
COPY = "INSERT INTO job_history SELECT * FROM bench_seed ORDER BY id"
DROP_SEED = "DROP TABLE bench_seed"
BUMP_IDS = (
    "UPDATE sqlite_sequence SET seq = max(seq, (SELECT max(id) FROM job_history)) "
    "WHERE name = 'job_queue'"
)
HAS_SEQUENCE = "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
COUNT_HISTORY = "SELECT count(*) FROM job_history"


async def _one_finished_job(db: Path) -> None:
    storage = await open_storage(sqlite_url(db))
    queue = JobQueue(storage)
    done = asyncio.Event()

    async def noop(job: Job) -> None:
        done.set()

    try:
        queue.register(JOB_TYPE, noop)
        await queue.add_job(JOB_TYPE)
        await queue.start()
        await asyncio.wait_for(done.wait(), timeout=30)
        await queue.stop()
        if (await queue.stats()).count(JobStatus.COMPLETED) != 1:
            raise RuntimeError("the template job did not complete")
    finally:
        await queue.stop()
        await storage.aclose()


def _copy_rows(db: Path, rows: int) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")  # setup only: a crash just means a rerun
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(SEED)
        copies = rows - 1
        have = 1
        while have < copies:
            conn.execute(DOUBLE, (copies - have,))
            have = int(conn.execute(COUNT_SEED).fetchone()[0])
        conn.execute(RENUMBER, (copies,))
        if copies > 0:
            conn.execute(COPY)
        conn.execute(DROP_SEED)
        if conn.execute(HAS_SEQUENCE).fetchone() is not None:
            conn.execute(BUMP_IDS)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = int(conn.execute(COUNT_HISTORY).fetchone()[0])
    finally:
        conn.close()
    if total != rows:
        raise RuntimeError(f"history holds {total} rows, wanted {rows}")


async def _check_next_id(db: Path, rows: int) -> None:
    storage = await open_storage(sqlite_url(db))
    try:
        queue = JobQueue(storage)
        queue.declare(JOB_TYPE)
        job = await queue.add_job(JOB_TYPE)
        if job.id <= rows:
            raise RuntimeError(f"a new job got id {job.id}, already used in history")
    finally:
        await storage.aclose()


def build_template(db: Path, rows: int) -> None:
    """Create ``db`` with ``rows`` completed jobs in history and an empty queue."""
    if rows < 1:
        raise ValueError("a history template needs at least one row")
    asyncio.run(_one_finished_job(db))
    _copy_rows(db, rows)
    _flush(db)
    probe = db.with_name(db.name + ".probe")
    copy_database(db, probe)
    try:
        asyncio.run(_check_next_id(probe, rows))
    finally:
        for path in (probe, *(probe.with_name(probe.name + s) for s in ("-wal", "-shm"))):
            path.unlink(missing_ok=True)


def copy_database(template: Path, target: Path) -> None:
    """A fresh copy of a closed, checkpointed database file (and any WAL beside it),
    flushed to disk so writing the copy back does not land in the measurement after it."""
    copies = [(template, target)]
    for suffix in ("-wal", "-shm"):
        side = template.with_name(template.name + suffix)
        if side.exists():
            copies.append((side, target.with_name(target.name + suffix)))
    for source, copy in copies:
        shutil.copyfile(source, copy)
        _flush(copy)


def _flush(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
