"""Reclaims on Redis racing the workers and each other, against a real redis-server.

A Redis reclaim fetches the stalled jobs with one script, decides each in Python, and stores
the verdicts with a second script. Anything may happen to a job between the two: a proxy
holds the second script back while the test acts on the job, and the verdict must then be
dropped, leaving the job exactly as the act left it. Workers on other machines have clocks
of their own: the worker here runs behind the reclaimer, so it may still heartbeat or finish
a job whose lease the reclaimer already saw expire.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.models import Job, JobStatus, NewJob
from relayarr.jobqueue.storage import StorageEngine, open_storage
from relayarr.jobqueue.storage.redis.scripts import load_scripts
from servers import RedisServer, redis_server

HANG_GUARD = 60.0  # seconds; only against hanging
START = 1_700_000_000.0
LEASE = 30.0
SCRIPTS = load_scripts()


class Gate:
    """A TCP proxy in front of the server that holds back every request holding ``marker``
    until :meth:`open`."""

    def __init__(self, port: int, marker: bytes) -> None:
        self.port = port
        self.marker = marker
        self.held = 0  # requests that reached the gate
        self._arrived = asyncio.Event()
        self._opened = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def open(self) -> None:
        self._opened.set()

    async def wait_held(self, count: int) -> None:
        """Return once ``count`` requests have reached the gate."""
        while self.held < count:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), HANG_GUARD)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer, gated=True)),
            asyncio.create_task(self._pump(up_reader, writer, gated=False)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            up_writer.close()
            writer.close()

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, gated: bool
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if gated and self.marker in data:
                    self.held += 1
                    self._arrived.set()
                    await self._opened.wait()
                sink.write(data)
                await sink.drain()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


@dataclass(frozen=True, slots=True)
class World:
    """Handles on one queue: a reclaimer whose verdicts wait at the gate, a rival reclaimer
    and a worker whose clock runs behind both; and the URL through the gate."""

    reclaimer: StorageEngine
    rival: StorageEngine
    worker: StorageEngine
    gate: Gate
    gated_url: str


@pytest.fixture
async def world() -> AsyncIterator[World]:
    server: RedisServer = redis_server()
    for script in SCRIPTS.values():  # the held request must be the script call itself
        server.command("SCRIPT", "LOAD", script.source)
    gate = Gate(server.port, SCRIPTS["rescue"].sha.encode())
    port = await gate.start()
    async with server.fresh_database() as url, contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(gate.close)
        ahead, behind = FakeClock(START), FakeClock(START)
        gated_url = url.replace(f":{server.port}/", f":{port}/")
        handles = []
        for handle_url, clock in (
            (gated_url, ahead),
            (url, ahead),
            (url, behind),
        ):
            handle = await open_storage(handle_url, clock=clock)
            stack.push_async_callback(handle.aclose)
            handles.append(handle)
        reclaimer, rival, worker = handles
        yield World(reclaimer, rival, worker, gate, gated_url)


async def stalled(world: World, count: int = 1) -> list[Job]:
    """``count`` jobs claimed by the worker, their leases lapsed on the reclaimers' clock and
    still live on the worker's."""
    clock = world.worker.clock
    assert isinstance(clock, FakeClock)
    await world.worker.add([NewJob.create("t", {}, now=clock.now()) for _ in range(count)])
    jobs = await world.worker.claim("w", ["t"], count, LEASE)
    clock.advance(LEASE / 2)
    ahead = world.reclaimer.clock
    assert isinstance(ahead, FakeClock)
    ahead.advance(LEASE * 2)
    return jobs


async def consistent(storage: StorageEngine, job: Job) -> None:
    """The stats count ``job`` once, under its status: no index holds it twice."""
    stats = await storage.stats()
    assert stats.count(job.status) == 1
    assert sum(stats.count(status) for status in JobStatus) == 1


Act = Callable[[World, Job], Awaitable[object]]


async def rescue_and_claim(world: World, job: Job) -> None:
    assert [j.id for j in await world.rival.reclaim([], 5)] == [job.id]
    assert [j.id for j in await world.rival.claim("w2", ["t"], 1, LEASE)] == [job.id]


ACTS: dict[str, Act] = {
    "heartbeat": lambda w, job: w.worker.heartbeat(job.lease, LEASE),
    "complete": lambda w, job: w.worker.complete(job.lease, '{"ok":1}'),
    "fail for good": lambda w, job: w.worker.fail(job.lease, "boom", None),
    "fail and retry": lambda w, job: w.worker.fail(job.lease, "boom", START + 100),
    "release": lambda w, job: w.worker.release(job.lease),
    "cancel": lambda w, job: w.rival.cancel(job.id),
    "another reclaimer rescues it": lambda w, job: w.rival.reclaim([], 5),
    "another reclaimer fails it as poison": lambda w, job: w.rival.reclaim([], 0),
    "another reclaimer rescues it, a worker claims it": rescue_and_claim,
}


@pytest.mark.parametrize("act", ACTS.values(), ids=ACTS.keys())
async def test_a_job_changed_between_fetch_and_store_is_left_as_it_was(
    world: World, act: Act
) -> None:
    [job] = await stalled(world)
    reclaim = asyncio.create_task(world.reclaimer.reclaim([], 5))
    await world.gate.wait_held(1)
    await act(world, job)
    before = await world.rival.get(job.id)
    world.gate.open()
    assert await asyncio.wait_for(reclaim, HANG_GUARD) == []
    after = await world.rival.get(job.id)
    assert after == before
    await consistent(world.rival, after)


async def test_a_heartbeat_between_the_steps_keeps_the_lease_working(world: World) -> None:
    [job] = await stalled(world)
    reclaim = asyncio.create_task(world.reclaimer.reclaim([], 5))
    await world.gate.wait_held(1)
    await world.worker.heartbeat(job.lease, LEASE)
    world.gate.open()
    assert await asyncio.wait_for(reclaim, HANG_GUARD) == []
    done, _ = await world.worker.complete(job.lease, None)
    assert (done.status, done.rescues, done.last_error) == (JobStatus.COMPLETED, 0, None)


async def test_a_job_left_alone_between_the_steps_is_rescued(world: World) -> None:
    [job] = await stalled(world)
    reclaim = asyncio.create_task(world.reclaimer.reclaim([], 5))
    await world.gate.wait_held(1)
    world.gate.open()
    [rescued] = await asyncio.wait_for(reclaim, HANG_GUARD)
    assert (rescued.id, rescued.status, rescued.rescues) == (job.id, JobStatus.PENDING, 1)
    assert rescued.last_error == "rescued after its worker (w) stopped"
    assert await world.rival.get(job.id) == rescued
    await consistent(world.rival, rescued)


@pytest.mark.parametrize(("max_rescues", "status"), [(5, "pending"), (0, "failed")])
async def test_many_reclaimers_at_once_rescue_each_job_once(
    world: World, max_rescues: int, status: str
) -> None:
    """Every reclaimer fetches the same stalled jobs and decides them before any stores its
    verdicts (the gate holds them all); then the stores race, and each job is moved once."""
    jobs = await stalled(world, 40)
    async with contextlib.AsyncExitStack() as stack:
        reclaimers = [world.reclaimer]
        for _ in range(5):
            handle = await open_storage(world.gated_url, clock=world.reclaimer.clock)
            stack.push_async_callback(handle.aclose)
            reclaimers.append(handle)
        # Owner "w" named dead as well: the jobs are found by both of the rule's reasons.
        racing = asyncio.gather(*(r.reclaim(["w"], max_rescues) for r in reclaimers))
        await world.gate.wait_held(len(reclaimers))
        world.gate.open()
        results = await asyncio.wait_for(racing, HANG_GUARD)
    moved = sorted(job.id for result in results for job in result)
    assert moved == sorted(job.id for job in jobs)
    for job in jobs:
        stored = await world.rival.get(job.id)
        assert stored.status == status
        assert stored.rescues == (1 if status == "pending" else 0)
    stats = await world.rival.stats()
    assert stats.count(JobStatus(status)) == len(jobs)
    assert sum(stats.count(s) for s in JobStatus) == len(jobs)
