"""The handler module for the scale-out test: ``relayarr worker --import scale_handlers``.

It registers one trivial handler, for :data:`JOB_TYPE`, that appends a ``start`` and an
``end`` line to this process's own file in the directory named by :data:`RECORDS_ENV`
(``<pid>.jsonl``), and writes a ``ready`` line as soon as the handler is registered. Each
line is one ``write(2)`` on an O_APPEND descriptor, so it is in the kernel once written.
Times are ``time.monotonic_ns()``: one clock for every process on the machine, so the
test can compare executions across workers.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from relayarr.jobqueue import Job, JobQueue

JOB_TYPE = "scale-out"
RECORDS_ENV = "SCALE_OUT_RECORDS"


class Recorder:
    """One JSON line per event in ``<directory>/<pid>.jsonl``."""

    def __init__(self, directory: Path) -> None:
        self.pid = os.getpid()
        path = directory / f"{self.pid}.jsonl"
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def record(self, event: str, **fields: int) -> None:
        line = json.dumps({"event": event, "pid": self.pid, **fields}) + "\n"
        os.write(self._fd, line.encode())


def register(queue: JobQueue) -> None:
    """Register the recording handler (called by ``relayarr worker --import``)."""
    recorder = Recorder(Path(os.environ[RECORDS_ENV]))

    async def handle(job: Job) -> None:
        recorder.record("start", job=job.id, attempt=job.attempts, t=time.monotonic_ns())
        # One turn of the loop, so that the worker's other jobs run in between: an
        # execution that another one could overlap is really open for a moment.
        await asyncio.sleep(0)
        recorder.record("end", job=job.id, attempt=job.attempts, t=time.monotonic_ns())

    queue.register(JOB_TYPE, handle)
    recorder.record("ready")
