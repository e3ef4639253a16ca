"""The handler module for the wake-up test: ``relayarr worker --import wake_handlers``.

It registers one handler, for :data:`JOB_TYPE`, that appends a ``start`` line (job id, time)
to ``records.jsonl`` in the directory named by :data:`DIR_ENV` as its first act and an
``end`` line as its last. A job whose payload says ``hold`` runs until the test releases it:
the test writes the job's id, one per line, to the FIFO ``release`` in that directory. The
module writes a ``ready`` line once the handler is registered and the FIFO is open.

Each line is one ``write(2)`` on an O_APPEND descriptor, so it is in the kernel once
written; times are ``time.monotonic_ns()``, one clock for every process on the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from relayarr.jobqueue import Job, JobQueue

JOB_TYPE = "wake-test"
DIR_ENV = "WAKE_TEST_DIR"
RECORDS = "records.jsonl"
RELEASE = "release"


class Releases:
    """Job ids read from the FIFO, each one ending that job's hold."""

    def __init__(self, path: Path) -> None:
        # Read and write: the FIFO then always has a writer, so it never reads as closed.
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self._buffer = b""
        self._released: set[int] = set()
        self._waiting: dict[int, asyncio.Future[None]] = {}
        asyncio.get_running_loop().add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        self._buffer += os.read(self._fd, 4096)
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            job_id = int(line)
            self._released.add(job_id)
            future = self._waiting.pop(job_id, None)
            if future is not None and not future.done():
                future.set_result(None)

    async def wait(self, job_id: int) -> None:
        if job_id in self._released:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiting[job_id] = future
        await future


def register(queue: JobQueue) -> None:
    """Register the recording handler (called by ``relayarr worker --import``)."""
    directory = Path(os.environ[DIR_ENV])
    records = os.open(directory / RECORDS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    releases = Releases(directory / RELEASE)

    def record(event: str, job_id: int = 0) -> None:
        line = {"event": event, "job": job_id, "t": time.monotonic_ns(), "pid": os.getpid()}
        os.write(records, (json.dumps(line) + "\n").encode())

    async def handle(job: Job) -> None:
        record("start", job.id)
        if job.payload.get("hold"):
            await releases.wait(job.id)
        record("end", job.id)

    queue.register(JOB_TYPE, handle)
    record("ready")
