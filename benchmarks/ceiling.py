"""The floor under everything: raw sqlite3 on this machine, WAL with synchronous=NORMAL.

Not a competitor, a yardstick: how many single-row commits, and how many claim+delete
pairs (the least a queue that takes a job out in a transaction can do), plain sqlite3
manages in a loop. A queue's figures read best against these.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from benchmarks.common import Throughput

CREATE = "CREATE TABLE task (id INTEGER PRIMARY KEY, data BLOB NOT NULL)"
INSERT = "INSERT INTO task (data) VALUES (?)"
TAKE = "SELECT id, data FROM task ORDER BY id LIMIT 1"
DELETE = "DELETE FROM task WHERE id = ?"
PAYLOAD = b"{}"


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def single_row_commits(db: Path, rows: int) -> Throughput:
    """``rows`` transactions of one INSERT each."""
    conn = _connect(db)
    try:
        conn.execute(CREATE)
        started = time.perf_counter()
        for _ in range(rows):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT, (PAYLOAD,))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return Throughput(rows, elapsed)


def claim_delete_pairs(db: Path, rows: int) -> Throughput:
    """``rows`` transactions that each select the first row and delete it."""
    conn = _connect(db)
    try:
        conn.execute(CREATE)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, ((PAYLOAD,) for _ in range(rows)))
        conn.execute("COMMIT")
        started = time.perf_counter()
        for _ in range(rows):
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(TAKE).fetchone()
            conn.execute(DELETE, (row[0],))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        left = int(conn.execute("SELECT count(*) FROM task").fetchone()[0])
    finally:
        conn.close()
    if left:
        raise RuntimeError(f"{left} rows left after taking every row")
    return Throughput(rows, elapsed)
