"""What the Redis engine does beyond the shared contract, against a real redis-server:
URLs and their redaction, a missing driver, the persistence warning, wake-ups across
handles, key prefixes, and replies lost with the connection.

Deadlines only stop a broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.errors import InvalidURL, LeaseLost, StorageError, StorageUnavailable
from relayarr.jobqueue.models import Job, JobQuery, JobStatus, NewJob
from relayarr.jobqueue.storage import StorageEngine, open_storage
from relayarr.jobqueue.storage.redis.options import RedisOptions, redact
from relayarr.jobqueue.storage.redis.scripts import load_scripts
from servers import REDIS_PASSWORD, RedisServer, redis_server

HANG_GUARD = 60.0  # seconds; only against hanging
START = 1_700_000_000.0


@pytest.fixture
def server() -> RedisServer:
    return redis_server()


@pytest.fixture
async def url(server: RedisServer) -> AsyncIterator[str]:
    async with server.fresh_database() as fresh:
        yield fresh


def job(clock: FakeClock, job_type: str = "t", **options: object) -> NewJob:
    return NewJob.create(job_type, {}, now=clock.now(), **options)  # type: ignore[arg-type]


# -- URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("redis://:s3cret@host:6379/2", "redis://host:6379/2"),
        ("redis://user:s3cret@host:6379/0?prefix=q:", "redis://user@host:6379/0?prefix=q:"),
        ("rediss://:s3cret@[::1]:6380", "rediss://[::1]:6380"),
        ("redis://host/0?password=s3cret&socket_timeout=5", "redis://host/0?socket_timeout=5"),
    ],
)
def test_where_never_holds_the_password(url: str, where: str) -> None:
    assert redact(url) == where
    options = RedisOptions.from_url(url)
    assert options.where == where
    assert "s3cret" not in options.where


@pytest.mark.parametrize(
    "url",
    [
        "redis:///0",
        "redis://host/zero",
        "redis://host/0?prefix=",
        "redis://host/0?retry_for=-1",
        "redis://host/0?socket_timeout=0",
    ],
)
def test_bad_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(InvalidURL) as caught:
        RedisOptions.from_url(url.replace("://", "://:pw-secret@"))
    assert "pw-secret" not in str(caught.value)


async def test_unknown_url_option_is_refused(server: RedisServer) -> None:
    with pytest.raises(InvalidURL, match="option"):
        await open_storage(server.url() + "?no_such_option=1")


def test_a_missing_driver_names_the_install_command() -> None:
    code = (
        "import asyncio, sys\n"
        "sys.modules['redis'] = None\n"
        "from relayarr.jobqueue.errors import DriverMissing\n"
        "from relayarr.jobqueue.storage import open_storage\n"
        "try:\n"
        "    asyncio.run(open_storage('redis://127.0.0.1:1/0'))\n"
        "except DriverMissing as exc:\n"
        "    print(exc)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'relayarr[redis]'" in completed.stdout


# -- the server ----------------------------------------------------------------------------


@pytest.fixture
def no_aof_server() -> Iterator[RedisServer]:
    server = RedisServer(appendonly=False)
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"cannot start a redis-server without AOF: {exc}")
    try:
        yield server
    finally:
        server.stop()


async def test_a_server_without_aof_gets_a_warning(
    no_aof_server: RedisServer, server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="relayarr.jobqueue.storage.redis"):
        storage = await open_storage(no_aof_server.url())
        await storage.aclose()
        assert any("appendonly" in record.getMessage() for record in caplog.records)
        assert all(REDIS_PASSWORD not in record.getMessage() for record in caplog.records)
        caplog.clear()
        storage = await open_storage(server.fresh_url())
        await storage.aclose()
        assert not any("appendonly" in record.getMessage() for record in caplog.records)


@pytest.fixture
def tls_server() -> Iterator[RedisServer]:
    try:
        server = RedisServer(tls=True)
        server.start()
    except Exception as exc:
        pytest.fail(f"cannot start a redis-server with TLS: {exc}")
    try:
        yield server
    finally:
        server.stop()


async def test_rediss_url_talks_tls(tls_server: RedisServer) -> None:
    url = (
        f"rediss://:{REDIS_PASSWORD}@127.0.0.1:{tls_server.tls_port}/0"
        f"?ssl_ca_certs={tls_server.ca_file}&prefix=tls:"
    )
    clock = FakeClock(START)
    storage = await open_storage(url, clock=clock)
    try:
        assert storage.where == (
            f"rediss://127.0.0.1:{tls_server.tls_port}/0?ssl_ca_certs={tls_server.ca_file}"
            "&prefix=tls:"
        )
        [added] = await storage.add([job(clock)])
        [claimed] = await storage.claim("w", ["t"], 1, 30)
        assert claimed.id == added.job.id
    finally:
        await storage.aclose()
    untrusted = url.split("?", 1)[0]  # the system's CAs do not know ours
    with pytest.raises(StorageUnavailable) as caught:
        await open_storage(untrusted)
    assert REDIS_PASSWORD not in str(caught.value)


# -- scripts --------------------------------------------------------------------------------


def defined(source: str) -> set[str]:
    return set(re.findall(r"^local (?:function )?(\w+)", source, re.MULTILINE))


def test_a_script_carries_only_the_helpers_it_uses() -> None:
    scripts = {name: defined(script.source) for name, script in load_scripts().items()}
    # add_jobs calls read (a held unique key), which needs FIELDS: found through the chain
    assert {"P", "FIELDS", "add_jobs", "place", "wake", "wake_sent", "read"} <= scripts["add"]
    assert not {"archive", "forget", "holds", "requeue", "leave"} & scripts["add"]
    assert scripts["last_event_id"] == {"P"}


def test_every_script_compiles_on_the_server(server: RedisServer) -> None:
    for script in load_scripts().values():
        assert server.command("SCRIPT", "LOAD", script.source) == script.sha


async def test_a_unique_key_utf8_cannot_hold_fails_its_own_add_only(url: str) -> None:
    """Commands are packed when called: a lone surrogate fails that call, not the batch it
    would have travelled in, nor the connection."""
    clock = FakeClock(START)
    storage = await open_storage(url, clock=clock)
    try:
        bad = job(clock, unique_key="k\udc80")
        # The first add goes at once; the other two wait for it and would share a batch.
        first, second, bad_add = await asyncio.gather(
            storage.add([job(clock)]),
            storage.add([job(clock)]),
            storage.add([bad]),
            return_exceptions=True,
        )
        assert isinstance(bad_add, StorageError)
        assert "utf-8" in str(bad_add)
        for added in (first, second):
            assert not isinstance(added, BaseException)
            assert (await storage.get(added[0].job.id)).status is JobStatus.PENDING
    finally:
        await storage.aclose()


async def test_prefixes_keep_queues_apart(server: RedisServer) -> None:
    async with server.fresh_database() as first_url, server.fresh_database() as second_url:
        first, second = await open_storage(first_url), await open_storage(second_url)
        try:
            [added] = await first.add([job(FakeClock(START))])
            assert (await second.list(JobQuery())).jobs == []
            assert await second.claim("w", ["t"], 10, 30) == []
            assert [j.id for j in await first.claim("w", ["t"], 10, 30)] == [added.job.id]
        finally:
            await first.aclose()
            await second.aclose()


async def test_ids_are_never_reused_after_prune(url: str) -> None:
    clock = FakeClock(START)
    storage = await open_storage(url, clock=clock)
    try:
        [first] = await storage.add([job(clock)])
        await storage.cancel(first.job.id)
        assert await storage.prune(keep=0) == 1
        [second] = await storage.add([job(clock)])
        assert second.job.id > first.job.id
    finally:
        await storage.aclose()


async def test_an_add_elsewhere_wakes_a_waiting_handle(url: str) -> None:
    waiter, adder = await open_storage(url), await open_storage(url)
    watch = waiter.watch_changes()
    try:
        await asyncio.wait_for(watch.wait(3600), HANG_GUARD)  # subscribes, arms, returns
        # Only the add can end this wait: its own bound is an hour, the guard's a minute.
        waiting = asyncio.ensure_future(watch.wait(3600))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await adder.add([job(FakeClock(START))])
        await asyncio.wait_for(waiting, HANG_GUARD)
    finally:
        await waiter.aclose()
        await adder.aclose()


async def test_a_wake_up_while_nobody_waits_is_not_lost(url: str) -> None:
    """Armed before the last wait returned, so an add before the next wait returns it at once."""
    waiter, adder = await open_storage(url), await open_storage(url)
    watch = waiter.watch_changes()
    try:
        await asyncio.wait_for(watch.wait(3600), HANG_GUARD)
        await adder.add([job(FakeClock(START))])
        await asyncio.sleep(0.1)  # the message arrives while nobody waits
        await asyncio.wait_for(watch.wait(3600), HANG_GUARD)
    finally:
        await waiter.aclose()
        await adder.aclose()


# -- completions coalesced into one script call ---------------------------------------------


async def test_completions_in_one_turn_share_a_script_call_and_each_stands_alone(
    url: str,
) -> None:
    """Five completions asked together: one round trip; the one whose lease is gone fails
    alone; follow-ups (one joining another's unique key) and results land per job; the
    indexes and counts are those of five single completions."""
    storage = await open_storage(url, clock=FakeClock(START))
    clock = storage.clock
    assert isinstance(clock, FakeClock)
    try:
        await storage.add([job(clock) for _ in range(5)])
        claimed = await storage.claim("w", ["t"], 5, 30)
        released = await storage.release(claimed[2].lease)  # its lease is gone
        trips = storage.round_trips  # type: ignore[attr-defined]
        outcomes = await asyncio.gather(
            *(
                storage.complete(
                    one.lease,
                    f'{{"n":{index}}}',
                    [job(clock, "child", unique_key="k")] if index in (0, 1) else [],
                )
                for index, one in enumerate(claimed)
            ),
            return_exceptions=True,
        )
        assert storage.round_trips - trips == 1  # type: ignore[attr-defined]
        assert isinstance(outcomes[2], LeaseLost)
        done = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
        assert [j.id for j, _ in done] == [c.id for i, c in enumerate(claimed) if i != 2]
        assert [j.result for j, _ in done] == [{"n": 0}, {"n": 1}, {"n": 3}, {"n": 4}]
        assert all(j.status is JobStatus.COMPLETED for j, _ in done)
        first, second = done[0][1][0], done[1][1][0]
        assert first.created
        assert not second.created
        assert second.job.id == first.job.id
        for finished_job, _ in done:
            assert await storage.get(finished_job.id) == finished_job
        stats = await storage.stats()
        assert stats.count(JobStatus.COMPLETED) == 4
        assert stats.count(JobStatus.PENDING) == 2  # the released job and the child
        assert stats.count(JobStatus.PROCESSING) == 0
        completed = await storage.list(JobQuery(statuses=[JobStatus.COMPLETED]))
        assert sorted(j.id for j in completed.jobs) == sorted(j.id for j, _ in done)
        assert (await storage.get(released.id)).status is JobStatus.PENDING
    finally:
        await storage.aclose()


async def test_text_redis_cannot_take_fails_its_own_completion_or_failure_only(
    url: str,
) -> None:
    """As for adds: a lone surrogate (a follow-up's unique key, an error text given
    straight to the storage) fails that one call, not the batch it would travel in."""
    storage = await open_storage(url, clock=FakeClock(START))
    clock = storage.clock
    assert isinstance(clock, FakeClock)
    try:
        await storage.add([job(clock) for _ in range(4)])
        claimed = await storage.claim("w", ["t"], 4, 30)
        outcomes = await asyncio.gather(
            storage.complete(claimed[0].lease, None),
            storage.complete(claimed[1].lease, None, [job(clock, unique_key="k\udc80")]),
            storage.fail(claimed[2].lease, "no such file: \udce9", None),
            storage.fail(claimed[3].lease, "fine", None),
            return_exceptions=True,
        )
        for refused in (outcomes[1], outcomes[2]):
            assert isinstance(refused, StorageError)
            assert "utf-8" in str(refused)
        assert (await storage.get(claimed[0].id)).status is JobStatus.COMPLETED
        assert (await storage.get(claimed[3].id)).status is JobStatus.FAILED
        for still in (claimed[1], claimed[2]):
            assert (await storage.get(still.id)).status is JobStatus.PROCESSING
    finally:
        await storage.aclose()


async def test_many_completions_at_once_go_in_batches_and_all_land(url: str) -> None:
    """More completions than one script call takes, after one claim of more jobs than one
    variadic command takes: every one is answered and stored."""
    storage = await open_storage(url, clock=FakeClock(START))
    clock = storage.clock
    assert isinstance(clock, FakeClock)
    try:
        jobs = 9_000
        await storage.add([job(clock) for _ in range(jobs)])
        claimed = await storage.claim("w", ["t"], jobs, 30)
        outcomes = await asyncio.gather(*(storage.complete(c.lease, None) for c in claimed))
        assert sorted(j.id for j, _ in outcomes) == sorted(c.id for c in claimed)
        stats = await storage.stats()
        assert (stats.count(JobStatus.COMPLETED), stats.count(JobStatus.PENDING)) == (jobs, 0)
    finally:
        await storage.aclose()


async def test_failures_in_one_turn_share_a_script_call_and_each_stands_alone(
    url: str,
) -> None:
    storage = await open_storage(url, clock=FakeClock(START))
    clock = storage.clock
    assert isinstance(clock, FakeClock)
    try:
        await storage.add([job(clock) for _ in range(3)])
        claimed = await storage.claim("w", ["t"], 3, 30)
        await storage.release(claimed[1].lease)
        trips = storage.round_trips  # type: ignore[attr-defined]
        retried, lost, failed = await asyncio.gather(
            storage.fail(claimed[0].lease, "again later", START + 60),
            storage.fail(claimed[1].lease, "gone", None),
            storage.fail(claimed[2].lease, "for good", None),
            return_exceptions=True,
        )
        assert storage.round_trips - trips == 1  # type: ignore[attr-defined]
        assert isinstance(lost, LeaseLost)
        assert isinstance(retried, Job)
        assert isinstance(failed, Job)
        assert (retried.status, retried.last_error) == (JobStatus.PENDING, "again later")
        assert (failed.status, failed.last_error) == (JobStatus.FAILED, "for good")
        assert await storage.get(retried.id) == retried
        assert await storage.get(failed.id) == failed
        stats = await storage.stats()
        assert (stats.count(JobStatus.PENDING), stats.count(JobStatus.FAILED)) == (2, 1)
        assert stats.count(JobStatus.PROCESSING) == 0
    finally:
        await storage.aclose()


# -- replies lost with the connection -------------------------------------------------------


class ReplyDropper:
    """A TCP proxy in front of the server that, when told, forwards the next request and
    closes the client's connection instead of passing the reply back (``drop_next``), or
    keeps it open and silent (``hold_next``): the command ran, but its caller never hears
    so."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.drop_next = False
        self.drop_more = 0  # further requests to drop after drop_next, each on a new connection
        self.hold_next = False
        self.dropped = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            while data := await reader.read(65536):
                drop = self.drop_next and b"EVALSHA" in data
                hold = self.hold_next and b"EVALSHA" in data
                up_writer.write(data)
                await up_writer.drain()
                reply = await up_reader.read(65536)
                if drop or hold:
                    self.drop_next = self.drop_more > 0
                    self.drop_more = max(self.drop_more - 1, 0)
                    self.hold_next = False
                    self.dropped += 1
                if hold:
                    while await reader.read(65536):  # silent until the client gives up
                        pass
                if drop or hold:
                    return
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            up_writer.close()
            writer.close()
            self._tasks.discard(task)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


@pytest.fixture(params=[None])
async def proxied(
    server: RedisServer, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[StorageEngine, StorageEngine, ReplyDropper]]:
    """(a handle through the proxy, a direct handle, the proxy) on one fresh queue; an
    indirect parameter is the proxied handle's ``socket_timeout``."""
    for script in load_scripts().values():  # a NOSCRIPT reply must not be what is dropped
        server.command("SCRIPT", "LOAD", script.source)
    dropper = ReplyDropper(server.port)
    port = await dropper.start()
    async with server.fresh_database() as direct_url:
        clock = FakeClock(START)
        via_url = direct_url.replace(f":{server.port}/", f":{port}/")
        if request.param is not None:
            via_url = via_url.replace("?", f"?socket_timeout={request.param}&", 1)
        via = await open_storage(via_url, clock=clock)
        direct = await open_storage(direct_url, clock=clock)
        try:
            yield via, direct, dropper
        finally:
            await via.aclose()
            await direct.aclose()
            await dropper.close()


async def leased(via: StorageEngine, count: int) -> list[Job]:
    """``count`` new jobs of type "t", claimed through ``via`` for 30 s."""
    clock = via.clock
    assert isinstance(clock, FakeClock)
    await via.add([job(clock) for _ in range(count)])
    return await via.claim("w", ["t"], count, 30)


async def test_a_completion_whose_reply_was_lost_is_recognised(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    via, direct, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    [claimed] = await leased(via, 1)
    dropper.drop_next = True
    done, added = await asyncio.wait_for(
        via.complete(claimed.lease, '{"ok":1}', [job(clock, "child")]), HANG_GUARD
    )
    assert dropper.dropped == 1
    assert done.status is JobStatus.COMPLETED
    assert done.result == {"ok": 1}
    assert [result.created for result in added] == [True]
    listed = await direct.list(JobQuery())
    assert sorted(j.id for j in listed.jobs) == sorted([claimed.id, added[0].job.id])
    assert await direct.get(claimed.id) == done


async def test_a_batch_of_completions_whose_reply_was_lost_applies_once(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    via, direct, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    claimed = await leased(via, 3)
    dropper.drop_next = True
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(via.complete(c.lease, None, [job(clock, "child")]) for c in claimed)),
        HANG_GUARD,
    )
    assert dropper.dropped == 1
    children = [added[0].job.id for _, added in outcomes]
    assert all(added[0].created for _, added in outcomes)
    assert len(set(children)) == 3
    listed = await direct.list(JobQuery())
    assert sorted(j.id for j in listed.jobs) == sorted([c.id for c in claimed] + children)
    stats = await direct.stats()
    assert (stats.count(JobStatus.COMPLETED), stats.count(JobStatus.PENDING)) == (3, 3)


async def test_a_batch_of_failures_whose_reply_was_lost_applies_once(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    via, direct, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    first, second = await leased(via, 2)
    dropper.drop_next = True
    retried, failed = await asyncio.wait_for(
        asyncio.gather(
            via.fail(first.lease, "again later", START + 60), via.fail(second.lease, "no", None)
        ),
        HANG_GUARD,
    )
    assert dropper.dropped == 1
    assert (retried.status, retried.attempts) == (JobStatus.PENDING, 1)
    assert (failed.status, failed.last_error) == (JobStatus.FAILED, "no")
    assert await direct.get(retried.id) == retried
    assert await direct.get(failed.id) == failed


async def test_a_claim_whose_reply_was_lost_returns_the_same_jobs(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    via, direct, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    added = await via.add([job(clock) for _ in range(3)])
    dropper.drop_next = True
    claimed = await asyncio.wait_for(via.claim("w", ["t"], 2, 30), HANG_GUARD)
    assert dropper.dropped == 1
    assert [j.id for j in claimed] == [result.job.id for result in added[:2]]
    processing = await direct.list(JobQuery(statuses=[JobStatus.PROCESSING]))
    assert sorted(j.id for j in processing.jobs) == sorted(j.id for j in claimed)


async def test_a_cancel_whose_reply_was_lost_fails_clearly(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    """Not repeated blindly (a second cancel would say "already finished"): the caller
    learns that it may have been applied, and it was applied whole."""
    via, direct, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    [added] = await via.add([job(clock)])
    dropper.drop_next = True
    with pytest.raises(StorageUnavailable, match="may or may not have been applied") as caught:
        await asyncio.wait_for(via.cancel(added.job.id), HANG_GUARD)
    assert REDIS_PASSWORD not in str(caught.value)
    assert (await direct.get(added.job.id)).status is JobStatus.CANCELLED
    assert (await via.get(added.job.id)).status is JobStatus.CANCELLED  # the handle recovers


# -- a server that stops answering ----------------------------------------------------------

REPLY_TIMEOUT = 0.3  # seconds, the proxied handle's socket_timeout in these tests


@pytest.mark.parametrize("proxied", [REPLY_TIMEOUT], indirect=True)
async def test_a_claim_whose_reply_never_comes_times_out_and_returns_the_same_jobs(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    via, _, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    added = await via.add([job(clock) for _ in range(3)])
    dropper.hold_next = True
    claimed = await asyncio.wait_for(via.claim("w", ["t"], 2, 30), HANG_GUARD)
    assert dropper.dropped == 1
    assert [j.id for j in claimed] == [result.job.id for result in added[:2]]


@pytest.mark.parametrize("proxied", [REPLY_TIMEOUT], indirect=True)
async def test_a_cancel_whose_reply_never_comes_fails_clearly(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    via, direct, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    [added] = await via.add([job(clock)])
    dropper.hold_next = True
    with pytest.raises(StorageUnavailable, match="may or may not have been applied") as caught:
        await asyncio.wait_for(via.cancel(added.job.id), HANG_GUARD)
    assert f"no reply from Redis within {REPLY_TIMEOUT:g}s" in str(caught.value)
    assert (await direct.get(added.job.id)).status is JobStatus.CANCELLED
    # The handle carries on, and the timer watches later calls as well.
    [second] = await via.add([job(clock)])
    dropper.hold_next = True
    with pytest.raises(StorageUnavailable, match="may or may not have been applied"):
        await asyncio.wait_for(via.cancel(second.job.id), HANG_GUARD)


async def test_a_caller_cancelled_while_its_add_waits_is_cancelled_not_timed_out(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    """An add is sent from its caller's task: the caller's own cancellation (here by
    wait_for) must reach it as such, and the handle must stay usable."""
    via, direct, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    dropper.hold_next = True
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(via.add([job(clock)]), 0.2)
    assert dropper.dropped == 1
    [added] = await asyncio.wait_for(via.add([job(clock, "other")]), HANG_GUARD)
    assert (await direct.get(added.job.id)).type == "other"


@pytest.mark.parametrize("proxied", [0.1], indirect=True)
async def test_waiting_out_lost_replies_is_not_taken_for_a_reply_overdue(
    proxied: tuple[StorageEngine, StorageEngine, ReplyDropper],
) -> None:
    """Four replies lost in a row: the backoff before the fourth try (0.2-0.4 s) outlasts
    the 0.1 s reply timeout, which must not fire while nothing is in flight."""
    via, direct, dropper = proxied
    clock = via.clock
    assert isinstance(clock, FakeClock)
    added = await direct.add([job(clock) for _ in range(3)])
    dropper.drop_next, dropper.drop_more = True, 3
    claimed = await asyncio.wait_for(via.claim("w", ["t"], 2, 30), HANG_GUARD)
    assert dropper.dropped == 4
    assert [j.id for j in claimed] == [result.job.id for result in added[:2]]
