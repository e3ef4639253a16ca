"""Crash tests: real worker processes on a real SQLite file, killed, stopped and restarted.

Each test drives ``crash_worker.py`` subprocesses through the public API and checks the
database and the workers' records afterwards: no job lost, none in two places, attempts
and rescues counted, live workers' jobs never taken. Leases are long (300 s) everywhere, so
a job that came back only by lease expiry would time the test out: what returns, returns
through the start-up reclaim of dead local owners. Deadlines only stop a broken run from
hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path

import pytest
from crash_worker import JOB_TYPE, Record, read_records

from relayarr.jobqueue import (
    Job,
    JobQuery,
    JobQueue,
    JobSpec,
    JobStatus,
    StorageEngine,
    open_storage,
)
from relayarr.jobqueue.owner import parse_owner

pytestmark = pytest.mark.slow

WORKER_SCRIPT = Path(__file__).with_name("crash_worker.py")
DEADLINE = 60.0  # seconds; only against hanging
LONG_LEASE = 300.0


class Worker:
    """One crash_worker.py process and where its stderr goes."""

    def __init__(self, name: str, args: Sequence[str], log: Path) -> None:
        self.name = name
        self.args = list(args)
        self.log = log
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER_SCRIPT), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def describe(self) -> str:
        code = self.process.returncode
        state = "running" if code is None else f"exit code {code}"
        tail = self.log.read_text(errors="replace").splitlines()[-40:]
        return f"--- {self.name} (pid {self.pid}, {state}) {' '.join(self.args)}\n" + "\n".join(
            tail
        )


class Cluster:
    """The database, the records file and every worker process of one test."""

    def __init__(self, tmp_path: Path, storage: StorageEngine) -> None:
        self.tmp_path = tmp_path
        self.db = tmp_path / "queue.db"
        self.records_path = tmp_path / "records.jsonl"
        self.storage = storage
        self.queue = JobQueue(storage)
        self.queue.declare(JOB_TYPE)
        self.workers: list[Worker] = []

    def spawn(self, *options: str) -> Worker:
        name = f"worker-{len(self.workers) + 1}"
        args = [str(self.db), str(self.records_path), "--lease-seconds", str(LONG_LEASE), *options]
        worker = Worker(name, args, self.tmp_path / f"{name}.log")
        self.workers.append(worker)
        return worker

    async def add(self, kinds: Sequence[str], *, priority: int = 5) -> list[Job]:
        specs = [JobSpec(JOB_TYPE, {"kind": kind}, priority=priority) for kind in kinds]
        return await self.queue.add_jobs(specs)

    def records(self) -> list[Record]:
        return read_records(self.records_path)

    def starts(self) -> Counter[int]:
        """How many attempts of each job began, by job id."""
        return Counter(r.job_id for r in self.records() if r.event == "start")

    async def jobs(self) -> list[Job]:
        """Every job, active and historical (a job in both places would show twice)."""
        out: list[Job] = []
        query = JobQuery(limit=1000)
        while True:
            page = await self.storage.list(query)
            out += page.jobs
            if page.next_cursor is None:
                return out
            query = JobQuery(limit=1000, before_id=page.next_cursor)

    async def active(self) -> int:
        stats = await self.storage.stats()
        return stats.count(JobStatus.PENDING) + stats.count(JobStatus.PROCESSING)

    async def diagnostics(self) -> str:
        stats = await self.storage.stats()
        counts = {status.value: stats.count(status) for status in JobStatus}
        owners = await self.storage.lease_owners()
        lines = [f"counts {counts}", f"lease owners {owners}"]
        lines += [worker.describe() for worker in self.workers]
        return "\n".join(lines)

    async def fail(self, message: str) -> None:
        pytest.fail(f"{message}\n{await self.diagnostics()}")

    async def wait_until(
        self,
        what: str,
        condition: Callable[[], Awaitable[bool]],
        *,
        alive: Sequence[Worker] = (),
    ) -> None:
        """Poll until ``condition`` holds; fail early if a worker in ``alive`` exits."""
        deadline = time.monotonic() + DEADLINE
        while not await condition():
            for worker in alive:
                if worker.process.poll() is not None:
                    await self.fail(f"{worker.name} exited while waiting for {what}")
            if time.monotonic() > deadline:
                await self.fail(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)

    async def wait_exit(self, worker: Worker) -> int:
        async def exited() -> bool:
            return worker.process.poll() is not None

        await self.wait_until(f"{worker.name} to exit", exited)
        code = worker.process.returncode
        assert code is not None
        return code

    def kill(self, worker: Worker) -> None:
        """SIGKILL and reap (an unreaped zombie still looks alive: see the zombie test)."""
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()

    def reap_all(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.kill()
            worker.process.wait()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'queue.db'}")
    cluster = Cluster(tmp_path, storage)
    try:
        yield cluster
    finally:
        cluster.reap_all()
        await storage.aclose()


def owner_pids(owners: Iterable[str | None]) -> set[int]:
    """The pids in lease owner ids (``hostname:pid:start-ticks:random``)."""
    parsed = (parse_owner(owner) for owner in owners if owner is not None)
    return {owner.pid for owner in parsed if owner is not None}


def by_id(jobs: Sequence[Job]) -> dict[int, Job]:
    ids = Counter(job.id for job in jobs)
    doubled = [job_id for job_id, count in ids.items() if count > 1]
    assert not doubled, f"jobs both active and in history: {doubled}"
    return {job.id: job for job in jobs}


async def test_sigkill_mid_job_loses_nothing(cluster: Cluster) -> None:
    jobs = await cluster.add(["work"] * 200)
    ids = {job.id for job in jobs}
    first = cluster.spawn("--concurrency", "8", "--work-seconds", "0.04")

    async def busy() -> bool:
        stats = await cluster.storage.stats()
        return stats.count(JobStatus.COMPLETED) >= 20 and stats.count(JobStatus.PROCESSING) >= 4

    await cluster.wait_until("jobs completed and in flight", busy, alive=[first])
    cluster.kill(first)

    # What the dead worker held, as the database saw it at the kill.
    held = await cluster.storage.list(JobQuery(statuses=[JobStatus.PROCESSING], limit=1000))
    in_flight = {job.id for job in held.jobs}
    assert in_flight, "the kill came after every job had finished"
    assert owner_pids(job.lease_owner for job in held.jobs) == {first.pid}
    assert set(by_id(await cluster.jobs())) == ids

    second = cluster.spawn("--concurrency", "8", "--work-seconds", "0.01", "--exit-when-idle")
    code = await cluster.wait_exit(second)
    if code != 0:
        await cluster.fail(f"the second worker exited with {code}")

    final = by_id(await cluster.jobs())
    assert set(final) == ids, "a job was lost or invented"
    assert await cluster.active() == 0
    starts = cluster.starts()
    problems = []
    for job_id, job in sorted(final.items()):
        rescued = job_id in in_flight
        expected = (1, 2) if rescued else (0, 1)
        if job.status is not JobStatus.COMPLETED or (job.rescues, job.attempts) != expected:
            problems.append(f"{job_id}: {job.status} rescues={job.rescues} attempts={job.attempts}")
        # A rescued job may or may not have begun before the kill; any other ran once.
        if not (1 <= starts[job_id] <= 2 if rescued else starts[job_id] == 1):
            problems.append(f"{job_id}: started {starts[job_id]} times (in flight: {rescued})")
    if problems:
        await cluster.fail(f"in flight at the kill: {sorted(in_flight)}\n" + "\n".join(problems))
    second_ran = {r.job_id for r in cluster.records() if r.event == "start" and r.pid == second.pid}
    assert in_flight <= second_ran


async def test_live_workers_jobs_are_never_reclaimed(cluster: Cluster) -> None:
    gate = cluster.tmp_path / "gate"
    # The gated jobs hold their leases until the gate opens; the rest follow after.
    gated = await cluster.add(["work"] * 8, priority=1)
    rest = await cluster.add(["work"] * 60)
    options = ["--concurrency", "4", "--gate", str(gate), "--exit-when-idle"]
    first, second = cluster.spawn(*options), cluster.spawn(*options)
    live = {first.pid, second.pid}

    async def both_hold_leases() -> bool:
        stats = await cluster.storage.stats()
        holding = owner_pids(await cluster.storage.lease_owners()) == live
        return holding and stats.count(JobStatus.PROCESSING) == len(gated)

    await cluster.wait_until("both workers to hold leases", both_hold_leases, alive=[first, second])

    sweeper = cluster.spawn("--mode", "sweep", "--rounds", "5")
    code = await cluster.wait_exit(sweeper)
    if code != 0:
        await cluster.fail(f"the sweeper exited with {code}")
    sweeps = [r for r in cluster.records() if r.event == "sweep"]
    assert len(sweeps) == 5
    for record in sweeps:
        assert live <= set(record.owners_before), record
        assert live <= set(record.owners_after), f"a live worker lost its leases: {record}"

    gate.touch()
    for worker in (first, second):
        code = await cluster.wait_exit(worker)
        if code != 0:
            await cluster.fail(f"{worker.name} exited with {code}")

    final = by_id(await cluster.jobs())
    assert set(final) == {job.id for job in gated + rest}
    bad = [
        (job.id, job.status.value, job.rescues, job.attempts)
        for job in final.values()
        if (job.status, job.rescues, job.attempts) != (JobStatus.COMPLETED, 0, 1)
    ]
    assert not bad, f"(id, status, rescues, attempts) of jobs that were disturbed: {bad}"
    starts = cluster.starts()
    assert set(starts) == set(final)
    assert set(starts.values()) == {1}, f"jobs that ran more than once: {starts}"
    runners = {r.pid for r in cluster.records() if r.event == "start"}
    assert runners == live


async def test_poison_job_fails_after_max_rescues(cluster: Cluster) -> None:
    max_rescues = 2
    before = await cluster.add(["work"] * 9)
    (poison,) = await cluster.add(["poison"])
    after = await cluster.add(["work"] * 10)
    options = ["--concurrency", "1", "--max-rescues", str(max_rescues), "--exit-when-idle"]

    codes = []
    for _ in range(max_rescues + 3):  # bounded: a job that loops forever fails the test
        worker = cluster.spawn(*options, "--work-seconds", "0.005")
        codes.append(await cluster.wait_exit(worker))
        if codes[-1] == 0:
            break
    # Each run dies on the poison job until the start-up reclaim gives up on it.
    if codes != [-signal.SIGKILL] * (max_rescues + 1) + [0]:
        await cluster.fail(f"exit codes of the runs: {codes}")

    final = by_id(await cluster.jobs())
    assert await cluster.active() == 0
    failed = final[poison.id]
    assert failed.status is JobStatus.FAILED
    assert failed.last_error is not None
    assert "poison" in failed.last_error
    assert failed.attempts == max_rescues + 1
    for job in before + after:
        done = final[job.id]
        assert (done.status, done.attempts, done.rescues) == (JobStatus.COMPLETED, 1, 0), done
    poison_starts = [r for r in cluster.records() if r.event == "start" and r.job_id == poison.id]
    assert len({r.pid for r in poison_starts}) == len(poison_starts) == max_rescues + 1


async def test_sigterm_releases_unfinished_jobs(cluster: Cluster) -> None:
    slow = await cluster.add(["slow"] * 4, priority=1)
    drain = await cluster.add(["drain"] * 2, priority=1)
    waiting = await cluster.add(["work"] * 4)
    first = cluster.spawn("--concurrency", "6", "--stop-timeout", "1")

    async def all_started() -> bool:
        return len(cluster.starts()) == len(slow) + len(drain)

    await cluster.wait_until("the slow and drain jobs to start", all_started, alive=[first])
    first.process.send_signal(signal.SIGTERM)
    code = await cluster.wait_exit(first)
    if code != 0:
        await cluster.fail(f"the worker exited with {code} after SIGTERM")

    # Drained jobs finished; the others are pending again, this attempt not counted.
    for job in drain:
        done = await cluster.storage.get(job.id)
        assert (done.status, done.attempts) == (JobStatus.COMPLETED, 1), done
    for job in slow + waiting:
        back = await cluster.storage.get(job.id)
        assert back.status is JobStatus.PENDING, back
        assert (back.attempts, back.rescues, back.lease_owner) == (0, 0, None), back
    cancelled = {r.job_id for r in cluster.records() if r.event == "cancelled"}
    assert cancelled == {job.id for job in slow}
    assert not {job.id for job in waiting} & set(cluster.starts())

    second = cluster.spawn("--concurrency", "6", "--slow-seconds", "0.01", "--exit-when-idle")
    code = await cluster.wait_exit(second)
    if code != 0:
        await cluster.fail(f"the second worker exited with {code}")
    final = by_id(await cluster.jobs())
    assert set(final) == {job.id for job in slow + drain + waiting}
    for job in final.values():
        assert (job.status, job.attempts, job.rescues) == (JobStatus.COMPLETED, 1, 0), job
    second_ran = {r.job_id for r in cluster.records() if r.event == "start" and r.pid == second.pid}
    assert second_ran == {job.id for job in slow + waiting}


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
async def test_zombie_worker_counts_as_dead(cluster: Cluster) -> None:
    await cluster.add(["work"] * 40)
    first = cluster.spawn("--concurrency", "4", "--work-seconds", "5")

    async def holding() -> bool:
        return first.pid in owner_pids(await cluster.storage.lease_owners())

    await cluster.wait_until("the worker to hold leases", holding, alive=[first])
    os.kill(first.pid, signal.SIGKILL)  # not reaped: the process stays a zombie

    async def zombie() -> bool:
        return _state(first.pid) == "Z"

    await cluster.wait_until("the killed worker to become a zombie", zombie)
    sweeper = cluster.spawn("--mode", "sweep")
    code = await cluster.wait_exit(sweeper)
    if code != 0:
        await cluster.fail(f"the sweeper exited with {code}")
    (record,) = [r for r in cluster.records() if r.event == "sweep"]
    assert first.pid in record.owners_before
    assert first.pid not in record.owners_after, "a zombie's leases were left to expire"
