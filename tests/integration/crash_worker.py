"""A worker process for the crash tests, run as ``python crash_worker.py DB RECORDS [options]``.

It runs a real :class:`JobQueue` on the SQLite file ``DB`` (or on ``DB`` as a queue URL, such
as ``postgresql://...``) with one job type, :data:`JOB_TYPE`, whose payload ``{"kind": ...}``
picks what the handler does:

* ``work``: sleep ``--work-seconds``, or until the file ``--gate`` exists when one is given;
* ``slow``: sleep ``--slow-seconds`` (an hour unless told otherwise);
* ``drain``: wait until this process is asked to stop (SIGTERM), then finish;
* ``poison``: SIGKILL this very process.

Every attempt appends JSON lines to ``RECORDS`` (shared by all workers of a test):
``start`` when the handler begins, ``done`` when it returns, ``cancelled`` when it is
cancelled. The process also records ``ready`` once :meth:`JobQueue.start` returned (so the
start-up reclaim has run). With ``--mode sweep`` it registers no handler and only runs the
start-up reclaim ``--rounds`` times, recording the pids owning leases around each round.

The worker stops gracefully on SIGTERM (``queue.stop(--stop-timeout)``), or by itself with
``--exit-when-idle`` once the active table is empty.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from relayarr.jobqueue import Handler, Job, JobQueue, JobStatus, StorageEngine, open_storage
from relayarr.jobqueue.owner import parse_owner

JOB_TYPE = "crash-test"
IDLE_POLL = 0.05


@dataclass(frozen=True, slots=True)
class Record:
    """One line of the records file."""

    event: str
    pid: int
    job_id: int = 0
    attempt: int = 0
    owners_before: tuple[int, ...] = ()
    owners_after: tuple[int, ...] = ()


def read_records(path: Path) -> list[Record]:
    """Every record written so far (none when the file does not exist yet)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        data = json.loads(line)
        records.append(
            Record(
                event=data["event"],
                pid=data["pid"],
                job_id=data.get("job", 0),
                attempt=data.get("attempt", 0),
                owners_before=tuple(data.get("before", ())),
                owners_after=tuple(data.get("after", ())),
            )
        )
    return records


class Recorder:
    """Appends one JSON line per event with a single ``write(2)`` on an O_APPEND descriptor.

    Once ``write`` returns the line is in the kernel: a SIGKILL of this process cannot lose
    it, and concurrent appenders never interleave a line (no fsync: only power loss, which
    these tests do not simulate, could lose it).
    """

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def record(self, event: str, **fields: object) -> None:
        line = json.dumps({"event": event, "pid": os.getpid(), **fields}) + "\n"
        os.write(self._fd, line.encode())

    def close(self) -> None:
        os.close(self._fd)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="a SQLite file, or any queue URL (postgresql://...)")
    parser.add_argument("records", type=Path)
    parser.add_argument("--mode", choices=("work", "sweep"), default="work")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--lease-seconds", type=float, default=300.0)
    parser.add_argument("--max-rescues", type=int, default=3)
    parser.add_argument("--work-seconds", type=float, default=0.03)
    parser.add_argument("--slow-seconds", type=float, default=3600.0)
    parser.add_argument("--gate", type=Path, default=None)
    parser.add_argument("--stop-timeout", type=float, default=30.0)
    parser.add_argument("--exit-when-idle", action="store_true")
    parser.add_argument("--rounds", type=int, default=1)
    return parser.parse_args(argv)


async def active_count(storage: StorageEngine) -> int:
    stats = await storage.stats()
    return stats.count(JobStatus.PENDING) + stats.count(JobStatus.PROCESSING)


async def owner_pids(storage: StorageEngine) -> list[int]:
    pids = set()
    for owner in await storage.lease_owners():
        parsed = parse_owner(owner)
        if parsed is not None:
            pids.add(parsed.pid)
    return sorted(pids)


def make_handler(args: argparse.Namespace, recorder: Recorder, stopping: asyncio.Event) -> Handler:
    async def handle(job: Job) -> None:
        kind = job.payload.get("kind")
        recorder.record("start", job=job.id, attempt=job.attempts)
        try:
            if kind == "poison":
                os.kill(os.getpid(), signal.SIGKILL)
            elif kind == "slow":
                await asyncio.sleep(args.slow_seconds)
            elif kind == "drain":
                await stopping.wait()
            elif args.gate is not None:
                # The test opens the gate from another process: no asyncio.Event reaches here.
                while not args.gate.exists():  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            else:
                await asyncio.sleep(args.work_seconds)
        except asyncio.CancelledError:
            recorder.record("cancelled", job=job.id, attempt=job.attempts)
            raise
        recorder.record("done", job=job.id, attempt=job.attempts)

    return handle


async def work(args: argparse.Namespace, storage: StorageEngine, recorder: Recorder) -> None:
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    queue = JobQueue(
        storage,
        lease_seconds=args.lease_seconds,
        max_rescues=args.max_rescues,
        poll_interval=0.1,
    )
    handle = make_handler(args, recorder, stopping)
    queue.register(JOB_TYPE, handle)
    await queue.start(concurrency=args.concurrency)
    recorder.record("ready")
    try:
        while not stopping.is_set():
            if args.exit_when_idle and await active_count(storage) == 0:
                break
            try:
                async with asyncio.timeout(IDLE_POLL):
                    await stopping.wait()
            except TimeoutError:
                pass
    finally:
        stopping.set()  # lets "drain" handlers finish
        await queue.stop(timeout=args.stop_timeout)


async def sweep(args: argparse.Namespace, storage: StorageEngine, recorder: Recorder) -> None:
    """Run only the start-up reclaim, ``--rounds`` times: start() sweeps, then stop()."""
    queue = JobQueue(storage, lease_seconds=args.lease_seconds, max_rescues=args.max_rescues)
    for _ in range(args.rounds):
        before = await owner_pids(storage)
        await queue.start()
        await queue.stop()
        after = await owner_pids(storage)
        recorder.record("sweep", before=before, after=after)
        await asyncio.sleep(0.02)


async def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    recorder = Recorder(args.records)
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    storage = await open_storage(url, create=False)
    try:
        if args.mode == "sweep":
            await sweep(args, storage, recorder)
        else:
            await work(args, storage, recorder)
    finally:
        await storage.aclose()
        recorder.close()


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"%(asctime)s pid={os.getpid()} %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(main(sys.argv[1:]))
