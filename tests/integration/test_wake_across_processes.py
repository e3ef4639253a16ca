"""An idle worker in another process is woken by each new job: it never waits for its poll.

This process adds jobs; a real ``relayarr worker --import wake_handlers`` process runs them
with ``poll_interval`` set to 30 seconds, so a job it only found by polling would start
about 30 s after it was added. Jobs are added at the moments a wake-up can be lost: one
waiting before the worker starts, others right after the previous job started, while it
runs, while it completes, and at varying pauses after it finished. Each must start within
:data:`START_DEADLINE` of being added (or of its slot freeing, at concurrency 1): far from
the poll, and far above any wake-up's real latency, so this checks that the wake-up
arrived, not how fast. On every engine, at concurrency 1, 4 (the default) and 8.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from wake_handlers import DIR_ENV, JOB_TYPE, RECORDS, RELEASE

from relayarr.jobqueue import JobQueue, open_storage
from servers import postgres_server, redis_server

pytestmark = pytest.mark.slow

POLL_INTERVAL = "30"  # seconds: the worker's poll, which no job here may wait for
START_DEADLINE = 5.0  # seconds from an add to its job's start: a lost wake-up takes 30
READY_DEADLINE = 120.0  # seconds for the worker process to start; only against hanging
LOOK = 0.001  # seconds between looks at the records
PAUSES = (0.0, 0.002, 0.01, 0.025)  # seconds between one moment and the next add
HANDLERS_DIR = Path(__file__).parent  # wake_handlers.py, importable by the worker


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
async def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    engine: str = request.param
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
    elif engine == "postgresql":
        async with postgres_server().fresh_database() as url:
            yield url
    else:
        async with redis_server().fresh_database() as url:
            yield url


def relayarr_command() -> list[str]:
    script = Path(sys.executable).with_name("relayarr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "relayarr"]


@dataclass
class Worker:
    """One ``relayarr worker`` process, its records, and the FIFO that releases held jobs."""

    directory: Path
    url: str
    concurrency: int
    process: subprocess.Popen[bytes] | None = None
    starts: dict[int, int] = field(default_factory=dict)  # job id -> monotonic ns
    ends: set[int] = field(default_factory=set)
    started_twice: list[int] = field(default_factory=list)
    ready: bool = False
    _offset: int = 0
    _release_fd: int = -1

    def spawn(self) -> None:
        os.mkfifo(self.directory / RELEASE)
        (self.directory / RECORDS).touch()
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
        pythonpath = os.pathsep.join(filter(None, [str(HANDLERS_DIR), env.get("PYTHONPATH")]))
        env |= {
            "RELAYARR_QUEUE__URL": self.url,  # not on the command line: it holds a password
            "RELAYARR_QUEUE__POLL_INTERVAL": POLL_INTERVAL,
            DIR_ENV: str(self.directory),
            "PYTHONPATH": pythonpath,
        }
        command = [
            *relayarr_command(),
            "worker",
            "--concurrency",
            str(self.concurrency),
            "--import",
            "wake_handlers",
        ]
        with (self.directory / "worker.log").open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        # Read and write, so opening never waits for the worker to open its end.
        self._release_fd = os.open(self.directory / RELEASE, os.O_RDWR)

    def release(self, job_id: int) -> None:
        os.write(self._release_fd, f"{job_id}\n".encode())

    def log_tail(self, lines: int = 40) -> str:
        text = (self.directory / "worker.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _read(self) -> None:
        with (self.directory / RECORDS).open("rb") as file:
            file.seek(self._offset)
            data = file.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.splitlines():
            record = json.loads(line)
            if record["event"] == "ready":
                self.ready = True
            elif record["event"] == "start":
                if record["job"] in self.starts:
                    self.started_twice.append(record["job"])
                self.starts[record["job"]] = record["t"]
            else:
                self.ends.add(record["job"])

    async def until(self, what: str, done: Callable[[], bool], deadline: float) -> None:
        """Look at the records until ``done()``; fail after ``deadline`` seconds."""
        give_up = time.monotonic() + deadline
        while True:
            self._read()
            if done():
                return
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited while waiting for {what}\n{self.log_tail()}")
            if time.monotonic() > give_up:
                pytest.fail(f"{what}\n{self.log_tail()}")
            await asyncio.sleep(LOOK)

    async def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        give_up = time.monotonic() + READY_DEADLINE
        while self.process.poll() is None:
            if time.monotonic() > give_up:
                pytest.fail(f"the worker did not stop after SIGTERM\n{self.log_tail()}")
            await asyncio.sleep(0.01)
        assert self.process.returncode == 0, self.log_tail()

    def reap(self) -> None:
        if self._release_fd >= 0:
            os.close(self._release_fd)
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Producer:
    """Adds jobs from this process and checks that each one starts in time."""

    def __init__(self, queue: JobQueue, worker: Worker) -> None:
        self.queue = queue
        self.worker = worker
        self.added: list[int] = []

    async def add(self, *, hold: bool = False) -> tuple[int, int]:
        """Add a job; returns its id and when the add began (monotonic ns)."""
        began = time.monotonic_ns()
        job = await self.queue.add_job(JOB_TYPE, {"hold": hold})
        self.added.append(job.id)
        return job.id, began

    async def started(self, job_id: int, since: int, moment: str) -> None:
        """Wait for the job's start; fail if it comes later than START_DEADLINE after
        ``since`` (the add, or the release that freed its slot)."""
        await self.worker.until(
            f"job {job_id}, added {moment}, did not start within {START_DEADLINE:g} s "
            f"(poll_interval is {POLL_INTERVAL} s): its wake-up was lost",
            lambda: job_id in self.worker.starts,
            START_DEADLINE - (time.monotonic_ns() - since) / 1e9,
        )

    async def ended(self, job_id: int) -> None:
        await self.worker.until(
            f"job {job_id} did not end", lambda: job_id in self.worker.ends, READY_DEADLINE
        )


@pytest.mark.parametrize("concurrency", [1, 4, 8])
async def test_every_job_starts_without_waiting_for_the_poll(
    queue_url: str, concurrency: int, tmp_path: Path
) -> None:
    storage = await open_storage(queue_url)
    worker = Worker(tmp_path, queue_url, concurrency)
    try:
        queue = JobQueue(storage)
        queue.declare(JOB_TYPE)
        producer = Producer(queue, worker)

        # Waiting before the worker starts: it runs while the first wait sets up.
        first, _ = await producer.add()
        worker.spawn()
        await worker.until(
            "the worker did not start",
            lambda: worker.ready and first in worker.starts,
            READY_DEADLINE,
        )
        previous = first
        for pause in PAUSES:  # after the previous job finished
            await producer.ended(previous)
            await asyncio.sleep(pause)
            previous, added = await producer.add()
            await producer.started(previous, added, f"{pause * 1000:g} ms after one finished")
        for pause in PAUSES:  # right after the previous one started, and while it runs
            held, added = await producer.add(hold=True)
            await producer.started(held, added, "after one finished")
            await asyncio.sleep(pause)
            job, added = await producer.add()
            moment = f"{pause * 1000:g} ms after one started"
            if concurrency > 1:
                await producer.started(job, added, moment)
            worker.release(held)
            released = time.monotonic_ns()
            if concurrency == 1:  # its slot frees only now
                await producer.started(job, max(added, released), moment)
            await producer.ended(held)
            previous = job
        for pause in PAUSES:  # while the previous one completes
            held, added = await producer.add(hold=True)
            await producer.started(held, added, "after one finished")
            await asyncio.sleep(pause)
            worker.release(held)
            job, added = await producer.add()
            await producer.started(job, added, "as one was completing")
            await producer.ended(held)
            previous = job
        await producer.ended(previous)
        await worker.stop()
        assert not worker.started_twice
        assert sorted(worker.starts) == sorted(producer.added)
    finally:
        worker.reap()
        await storage.aclose()
