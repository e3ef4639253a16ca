"""Talking to Redis: batched script calls, retries across outages, one error tree.

Calls made during one turn of the event loop travel together: one write of all their
commands on one connection, then their replies in order (a pipeline without MULTI: each
script is atomic by itself, and one call's error never touches another). Many concurrent
claims, heartbeats and completions therefore cost one round trip, not one each.

When the server cannot be reached, a call waits and tries again with exponential backoff
for up to ``retry_for`` seconds. Whether a call may be sent again after its connection
broke *with the command already sent* depends on the call:

* ``Replay.SAFE``: reads, and writes that give the same result when repeated (heartbeat);
* ``Replay.AGAIN``: fenced writes (claim, complete, fail, release) are sent again with an
  ``again`` flag, and the script recognises its own earlier success by the lease token;
* ``Replay.NEVER``: anything else fails with StorageUnavailable saying it may or may not
  have been applied (a script is atomic, so it is all or nothing, never half).

Adds replay as SAFE: a reply lost after the server stored the job stores it once more
(a job with a unique key is found, not duplicated). Losing a webhook's job is worse.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    BusyLoadingError,
    NoScriptError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from relayarr.jobqueue.errors import StorageError, StorageUnavailable
from relayarr.jobqueue.storage.redis.resp import pack
from relayarr.jobqueue.storage.redis.scripts import Script

log = logging.getLogger(__name__)

NETWORK_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
FIRST_BACKOFF = 0.05
MAX_BACKOFF = 2.0
IDLE_CHECK = 1.0  # seconds idle after which the connection is checked before use
# redis-py before 5.3 needs a command name to hand out a connection; later ones deprecate it.
_NAME_FOR_CONNECTION = (
    inspect.signature(ConnectionPool.get_connection).parameters["command_name"].default
    is inspect.Parameter.empty
)


class Replay(enum.Enum):
    SAFE = "safe"
    AGAIN = "again"
    NEVER = "never"


@dataclass(slots=True)
class Call:
    """One command on its way: a script (by name) or a plain command."""

    what: str  # operation name for messages
    command: list[str]
    packed: bytes  # ``command`` as sent (see .resp)
    future: asyncio.Future[Any]
    replay: Replay
    script: Script | None = None
    again_at: int = -1  # index in ``command`` of the again flag (Replay.AGAIN)
    tries: int = field(default=0)

    def send_again(self) -> None:
        """Mark a Replay.AGAIN call as a repeat (its script then checks for its own work)."""
        self.command[self.again_at] = "1"
        self.packed = pack(self.command)


def translate(exc: BaseException, where: str) -> StorageError:
    """A redis-py error as the queue's error tree, with a message a user can act on."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, AuthenticationError | AuthenticationWrongNumberOfArgsError) or any(
        word in text for word in ("WRONGPASS", "NOAUTH", "invalid password", "AUTH <password>")
    ):
        return StorageUnavailable(f"Redis refused the credentials: {text}", where=where)
    if "DB index is out of range" in text:
        return StorageUnavailable(f"Redis has no such database: {text}", where=where)
    if isinstance(exc, BusyLoadingError):
        return StorageUnavailable("Redis is still loading its data", where=where)
    if isinstance(exc, NETWORK_ERRORS):
        return StorageUnavailable(f"cannot reach Redis: {text}", where=where)
    return StorageError(f"redis error: {text}", where=where)


def is_retryable(exc: BaseException) -> bool:
    """A network failure worth waiting out (not wrong credentials or a wrong database)."""
    if isinstance(exc, AuthenticationError | AuthenticationWrongNumberOfArgsError):
        return False
    return isinstance(exc, NETWORK_ERRORS) and "DB index" not in str(exc)


class Client:
    """Sends calls in batches over one connection, and single reads over the pool."""

    def __init__(self, pool: ConnectionPool, where: str, retry_for: float, timeout: float) -> None:
        self._pool = pool
        self._where = where
        self._retry_for = retry_for
        self._timeout = timeout  # for a whole batch, not per socket call (see _watch)
        self._conn: AbstractConnection = pool.make_connection()  # type: ignore[no-untyped-call]
        self._queue: list[Call] = []
        self._running = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._closing = asyncio.Event()
        self._task: asyncio.Future[None] | None = None
        self._outage_since: float | None = None
        self._last_used = 0.0
        self._sender: asyncio.Task[Any] | None = None  # the task whose batch is in flight
        self._sent_at = 0.0
        self._cancelling = 0
        self._expired = False
        self._watchdog: asyncio.TimerHandle | None = None
        self.round_trips = 0

    # -- calling ----------------------------------------------------------------------------

    async def script(
        self,
        script: Script,
        args: Sequence[str],
        replay: Replay,
        *,
        again_at: int = -1,
        eager: bool = False,
    ) -> Any:
        """Run ``EVALSHA script 0 args...`` in the next batch; returns the script's reply.

        ``eager``: when nothing is being sent, send at once from the caller's task instead
        of waiting a loop turn for company. Right for callers that write one thing at a
        time (a producer adding jobs); calls that come in crowds (claims, completions)
        leave it off so they share round trips.
        """
        command = ["EVALSHA", script.sha, "0", *args]
        return await self._submit(script.name, command, replay, script, again_at + 3, eager)

    async def command(self, what: str, command: list[str], replay: Replay) -> Any:
        """Run a plain command in the next batch; returns its reply."""
        return await self._submit(what, command, replay, None, -1, False)

    async def _submit(
        self,
        what: str,
        command: list[str],
        replay: Replay,
        script: Script | None,
        again_at: int,
        eager: bool,
    ) -> Any:
        if self._closed:
            raise StorageUnavailable("storage is closed", where=self._where)
        try:
            packed = pack(command)
        except UnicodeEncodeError as exc:
            raise translate(exc, self._where) from exc
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        call = Call(what, command, packed, future, replay, script, again_at)
        if not self._running:
            self._running = True
            self._idle.clear()
            if eager:
                await self._run([call])
                return await future
            loop.call_soon(self._flush)
        self._queue.append(call)
        return await future

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        self._task = asyncio.ensure_future(self._run(batch))

    async def _run(self, batch: list[Call]) -> None:
        try:
            while batch:
                batch = await self._send(batch)
        except BaseException as exc:  # never leave a caller waiting
            error: Exception
            if isinstance(exc, RedisError):
                error = translate(exc, self._where)
            elif isinstance(exc, Exception):
                error = exc
            else:
                error = StorageUnavailable("storage is closing", where=self._where)
            for call in batch:
                if not call.future.done():
                    call.future.set_exception(error)
            if not isinstance(exc, Exception):
                raise
        finally:
            if self._queue:
                asyncio.get_running_loop().call_soon(self._flush)
            else:
                self._running = False
                self._idle.set()

    async def _send(self, batch: list[Call]) -> list[Call]:
        """Send one batch; returns the calls to send again (after a wait, when any)."""
        # Written for the single add in flight (a producer's loop): each step skipped here
        # is about a microsecond of the client's 60 or so per add.
        if len(batch) > 1:
            batch = [call for call in batch if not call.future.done()]  # callers gone
        if not batch or batch[0].future.done():
            return []
        conn = self._conn
        loop = asyncio.get_running_loop()
        now = loop.time()
        task = self._watch(loop, now)
        replies: list[Any] = []
        sent = False
        try:
            # A connection idle for a while may have been closed by the server (a restart):
            # find out before sending, while a retry is still certainly safe.
            if now - self._last_used > IDLE_CHECK or not conn.is_connected:
                await self._pool.ensure_connection(conn)
            if self._outage_since is not None:
                self._recovered()
            self._last_used = now
            sent = True
            packed = batch[0].packed if len(batch) == 1 else b"".join(c.packed for c in batch)
            await conn.send_packed_command(packed, check_health=False)
            self.round_trips += 1
            for _ in batch:
                try:
                    replies.append(await conn.read_response())
                except ResponseError as exc:
                    replies.append(exc)
        except BaseException as exc:
            self._sender = None  # before any wait below: a backoff is not a reply overdue
            error = self._timed_out(task, exc)
            await conn.disconnect(nowait=True)
            if error is None:
                raise
            if sent:
                return await self._lost(batch, replies, error)
            return await self._not_sent(batch, error)
        self._sender = None
        if len(batch) == 1 and not isinstance(replies[0], ResponseError):
            if not batch[0].future.done():
                batch[0].future.set_result(replies[0])
            return []
        return await self._settle(batch, replies)

    # One timer watches the batch in flight, instead of one asyncio.timeout per batch (which
    # an add would pay for): it fires at most once per ``timeout`` seconds, and cancels the
    # sending task only when its batch has waited that long.

    def _watch(self, loop: asyncio.AbstractEventLoop, now: float) -> asyncio.Task[Any]:
        """Start the reply timeout for a batch sent at ``now`` by the current task."""
        task = asyncio.current_task()
        assert task is not None
        self._sender = task
        self._sent_at = now
        self._cancelling = task.cancelling()
        self._expired = False
        if self._watchdog is None:
            self._watchdog = loop.call_at(now + self._timeout, self._check_sender)
        return task

    def _check_sender(self) -> None:
        self._watchdog = None
        sender = self._sender
        if sender is None:
            return  # idle: the next batch starts the timer again
        loop = sender.get_loop()
        due = self._sent_at + self._timeout
        if loop.time() < due:
            self._watchdog = loop.call_at(due, self._check_sender)
            return
        self._expired = True
        sender.cancel()

    def _timed_out(self, task: asyncio.Task[Any], exc: BaseException) -> Exception | None:
        """What a batch's failure means: the watchdog's cancellation is a timeout; other
        errors stand; None for a cancellation (or exit) from elsewhere, to be re-raised."""
        if isinstance(exc, asyncio.CancelledError):
            if self._expired and task.uncancel() <= self._cancelling:
                return RedisTimeoutError(f"no reply from Redis within {self._timeout:g}s")
            return None
        return exc if isinstance(exc, Exception) else None

    async def _settle(self, batch: list[Call], replies: list[Any]) -> list[Call]:
        """Answer the calls that have replies; returns those to send again (NOSCRIPT)."""
        again: list[Call] = []
        missing: dict[str, Script] = {}
        for call, reply in zip(batch, replies, strict=False):
            if isinstance(reply, NoScriptError) and call.script is not None:
                missing[call.script.name] = call.script
                again.append(call)  # NOSCRIPT: nothing ran
            elif isinstance(reply, ResponseError):
                if not call.future.done():
                    call.future.set_exception(translate(reply, self._where))
            elif not call.future.done():
                call.future.set_result(reply)
        if missing:
            try:
                async with asyncio.timeout(self._timeout):
                    await self._load(list(missing.values()))
            except (*NETWORK_ERRORS, TimeoutError) as exc:
                await self._conn.disconnect(nowait=True)
                return await self._not_sent(again, exc)
        return again

    async def _load(self, scripts: list[Script]) -> None:
        conn = self._conn
        await self._pool.ensure_connection(conn)
        await conn.send_packed_command(
            conn.pack_commands([["SCRIPT", "LOAD", script.source] for script in scripts])
        )
        for _ in scripts:
            await conn.read_response()

    async def _not_sent(self, batch: list[Call], exc: Exception) -> list[Call]:
        """Nothing of the batch reached the server: wait, then send it all again."""
        if not is_retryable(exc):
            self._fail(batch, translate(exc, self._where))
            return []
        await self._backoff(batch, exc)
        return [call for call in batch if not call.future.done()]

    async def _lost(self, batch: list[Call], replies: list[Any], exc: Exception) -> list[Call]:
        """The connection broke after sending: replies read so far stand; the rest is
        unknown, and only calls that may be repeated are."""
        rest = await self._settle(batch[: len(replies)], replies)
        unknown = batch[len(replies) :]
        if not is_retryable(exc):
            self._fail(unknown, translate(exc, self._where))
            return rest
        for call in unknown:
            if call.replay is Replay.NEVER:
                if not call.future.done():
                    call.future.set_exception(
                        StorageUnavailable(
                            f"the connection to Redis broke during {call.what}; it may or may "
                            f"not have been applied (check before repeating it): {exc}",
                            where=self._where,
                        )
                    )
                continue
            if call.replay is Replay.AGAIN:
                call.send_again()
            rest.append(call)
        if rest:
            await self._backoff(rest, exc)
        return [call for call in rest if not call.future.done()]

    async def _backoff(self, batch: list[Call], exc: Exception) -> None:
        now = time.monotonic()
        if self._outage_since is None:
            self._outage_since = now
            log.warning(
                "redis connection lost; retrying with backoff for up to %gs (%s: %s)",
                self._retry_for,
                self._where,
                exc,
                extra={"service": "redis", "where": self._where, "error": str(exc)},
            )
        waited = now - self._outage_since
        if waited >= self._retry_for:
            self._fail(
                batch,
                StorageUnavailable(
                    f"cannot reach Redis (gave up after {waited:.1f}s): {exc}", where=self._where
                ),
            )
            return
        tries = max(call.tries for call in batch) if batch else 0
        for call in batch:
            call.tries += 1
        delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2**tries) * (0.5 + random.random() / 2)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(delay, self._retry_for - waited)):
                await self._closing.wait()
        if self._closed:
            self._fail(batch, StorageUnavailable(f"storage closed while Redis was away: {exc}"))

    def _recovered(self) -> None:
        if self._outage_since is not None:
            log.warning(
                "redis connection restored after %.1fs (%s)",
                time.monotonic() - self._outage_since,
                self._where,
                extra={
                    "service": "redis",
                    "where": self._where,
                    "duration_ms": round((time.monotonic() - self._outage_since) * 1000),
                },
            )
            self._outage_since = None

    def _fail(self, calls: Sequence[Call], error: Exception) -> None:
        for call in calls:
            if not call.future.done():
                call.future.set_exception(error)

    # -- single reads on the pool -------------------------------------------------------------

    async def read(self, script: Script, args: Sequence[str]) -> Any:
        """Run a read-only script on a pooled connection (big replies do not hold up the
        batch connection); retried across outages like SAFE calls."""
        if self._closed:
            raise StorageUnavailable("storage is closed", where=self._where)
        started = time.monotonic()
        tries = 0
        while True:
            try:
                return await self._read_once(script, args)
            except NETWORK_ERRORS as exc:
                if not is_retryable(exc) or time.monotonic() - started >= self._retry_for:
                    raise translate(exc, self._where) from exc
                delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2**tries) * (0.5 + random.random() / 2)
                tries += 1
                await asyncio.sleep(delay)
            except RedisError as exc:
                raise translate(exc, self._where) from exc

    async def _read_once(self, script: Script, args: Sequence[str]) -> Any:
        if _NAME_FOR_CONNECTION:
            conn = await self._pool.get_connection("EVALSHA")  # type: ignore[no-untyped-call]
        else:
            conn = await self._pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            async with asyncio.timeout(self._timeout):
                return await self._evalsha(conn, script, args)
        except TimeoutError as exc:
            await conn.disconnect(nowait=True)
            raise RedisTimeoutError(f"no reply from Redis within {self._timeout:g}s") from exc
        except BaseException:
            await conn.disconnect(nowait=True)
            raise
        finally:
            await self._pool.release(conn)

    @staticmethod
    async def _evalsha(conn: AbstractConnection, script: Script, args: Sequence[str]) -> Any:
        try:
            await conn.send_command("EVALSHA", script.sha, 0, *args)
            return await conn.read_response()
        except NoScriptError:
            await conn.send_command("SCRIPT", "LOAD", script.source)
            await conn.read_response()
            await conn.send_command("EVALSHA", script.sha, 0, *args)
            return await conn.read_response()

    # -- lifecycle ----------------------------------------------------------------------------

    async def close(self) -> None:
        """Refuse new calls, let queued ones finish, then drop the connection."""
        self._closed = True
        self._closing.set()
        await self._idle.wait()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        await self._conn.disconnect()
