"""RedisStorage: the Storage Protocol on Redis, every state change one Lua script."""

from __future__ import annotations

import asyncio
import builtins
import logging
import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError, ResponseError, WatchError

from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.errors import (
    InvalidTransition,
    InvalidURL,
    JobNotFound,
    LeaseLost,
    StorageUnavailable,
)
from relayarr.jobqueue.events import Event
from relayarr.jobqueue.models import (
    TERMINAL_STATUSES,
    Added,
    BreakerState,
    Job,
    JobId,
    JobQuery,
    JobStatus,
    Lease,
    NewJob,
    Page,
    QueueStats,
)
from relayarr.jobqueue.storage import BreakerTransition, Capabilities, ProgressCallback
from relayarr.jobqueue.storage.answers import FINISHED_WINDOW, page_of, queue_stats
from relayarr.jobqueue.storage.pruning import Cut, prune_history
from relayarr.jobqueue.storage.redis.client import (
    FIRST_BACKOFF,
    MAX_BACKOFF,
    NETWORK_ERRORS,
    Client,
    Replay,
    is_retryable,
    translate,
)
from relayarr.jobqueue.storage.redis.coalesce import Coalescer
from relayarr.jobqueue.storage.redis.codec import (
    count_rows,
    dump_breaker,
    finished,
    job_args,
    load_breaker,
    num,
    run_key,
    to_job,
)
from relayarr.jobqueue.storage.redis.eventlog import event_args, start_after, to_events
from relayarr.jobqueue.storage.redis.importing import import_args
from relayarr.jobqueue.storage.redis.options import RedisOptions
from relayarr.jobqueue.storage.redis.scripts import load_scripts
from relayarr.jobqueue.storage.redis.stalled import verdict_args
from relayarr.jobqueue.storage.redis.wake import RedisWatch, WakeListener
from relayarr.jobqueue.storage.rules import check_breaker_name, check_importable

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
PRUNE_BATCH = 1000  # finished jobs one script call of a prune deletes
LEASED_CACHE = 100_000
WRITE_BATCH = 256  # completions, or failures, per script call: a few ms of the server
HISTORY = [status.value for status in TERMINAL_STATUSES]


@dataclass(frozen=True, slots=True)
class _Completion:
    lease: Lease
    result_json: str | None
    follow_ups: Sequence[NewJob]
    claimed: Job | None  # the job as this handle claimed it, if it did
    args: list[str]  # its part of the batch's script arguments


@dataclass(frozen=True, slots=True)
class _Failure:
    lease: Lease
    args: list[str]


def _encodable(args: list[str], where: str) -> list[str]:
    """``args``, once sure that they can be sent: a string Redis cannot take (a lone
    surrogate) fails its own call here, not the batch it would travel in."""
    try:
        for arg in args:
            arg.encode()
    except UnicodeEncodeError as exc:
        raise translate(exc, where) from exc
    return args


class RedisStorage:
    """Storage on one Redis database under a key prefix. Open with :func:`open_storage`."""

    capabilities = Capabilities(
        engine="redis",
        multi_process=True,
        multi_host=True,
        cross_process_events=True,
        instant_wakeups=True,
    )

    def __init__(self, options: RedisOptions, clock: Clock, pool: ConnectionPool) -> None:
        self._options = options
        self._clock = clock
        self._pool = pool
        self._p = options.prefix
        self._redis: Redis = Redis(connection_pool=pool)
        self._client: Client = Client(pool, options.where, options.retry_for, options.timeout)
        self._scripts = load_scripts()
        self._wake: WakeListener = WakeListener(self._redis, options.prefix)
        self._leased: dict[tuple[JobId, str | None], Job] = {}  # claimed here, not finished
        self._completions: Coalescer[_Completion, tuple[Job, list[Added]]] = Coalescer(
            self._complete_batch, WRITE_BATCH, options.where
        )
        self._failures: Coalescer[_Failure, Job] = Coalescer(
            self._fail_batch, WRITE_BATCH, options.where
        )
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, clock: Clock, create: bool = True) -> RedisStorage:
        options = RedisOptions.from_url(url)
        try:
            # No socket_timeout for redis-py (its default is 5 s): it would wrap every socket
            # write and read in its own timer; the engine times whole batches instead.
            pool = ConnectionPool.from_url(
                options.driver_url, decode_responses=True, socket_timeout=None
            )
            pool.make_connection()  # type: ignore[no-untyped-call]  # refuses unknown URL options now, not at first use
        except (TypeError, ValueError) as exc:
            raise InvalidURL(f"bad redis URL option: {exc}", where=options.where) from exc
        storage = cls(options, clock, pool)
        try:
            await storage._check_server(create=create)
        except BaseException:
            await storage.aclose()
            raise
        return storage

    async def _check_server(self, *, create: bool) -> None:
        """Reach the server once (one clear error if not), warn without persistence, and
        without ``create`` insist on a migrated queue."""
        try:
            async with asyncio.timeout(self._options.timeout):
                await self._redis.ping()
                try:
                    config = await self._redis.config_get("appendonly")
                except ResponseError:  # CONFIG renamed or disabled (managed services)
                    config = None
                version: str | None = await self._redis.get(self._p + "schema")  # type: ignore[assignment]
        except TimeoutError as exc:
            raise StorageUnavailable(
                f"Redis did not answer within {self._options.timeout:g}s", where=self.where
            ) from exc
        except RedisError as exc:
            raise translate(exc, self.where) from exc
        if config is not None and config.get("appendonly") != "yes":
            log.warning(
                "redis at %s runs without AOF persistence (appendonly no): a restart of the "
                "server loses every job change since its last snapshot; set appendonly yes",
                self.where,
                extra={"service": "redis", "where": self.where},
            )
        if version is not None and int(version) > SCHEMA_VERSION:
            raise StorageUnavailable(
                f"the queue's data layout version {version} is newer than this relayarr "
                f"knows ({SCHEMA_VERSION}); upgrade relayarr",
                where=self.where,
            )
        if version is None and not create:
            raise StorageUnavailable(
                f"no relayarr queue under prefix {self._p!r} in this database "
                "(run `relayarr migrate` to create it)",
                where=self.where,
            )

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def where(self) -> str:
        return self._options.where

    @property
    def round_trips(self) -> int:
        """Batches sent so far (many operations may share one)."""
        return self._client.round_trips

    # -- calling scripts --------------------------------------------------------------------

    async def _run(
        self,
        name: str,
        args: Sequence[str],
        replay: Replay,
        again_at: int = -1,
        *,
        eager: bool = False,
    ) -> Any:
        script = self._scripts[name]
        return await self._client.script(
            script, [self._p, *args], replay, again_at=again_at, eager=eager
        )

    async def _read(self, name: str, *args: str) -> Any:
        return await self._client.read(self._scripts[name], [self._p, *args])

    # -- schema -------------------------------------------------------------------------

    async def migrate(self) -> None:
        await self._client.command(
            "migrate", ["SET", self._p + "schema", str(SCHEMA_VERSION), "NX"], Replay.SAFE
        )

    # -- adding -------------------------------------------------------------------------

    async def add(self, jobs: Sequence[NewJob]) -> list[Added]:
        if not jobs:
            return []
        now = self._clock.now()
        now_text = num(now)
        reply = await self._run(
            "add", [now_text, *job_args(jobs, now, now_text)], Replay.SAFE, eager=True
        )
        return self._added(jobs, reply, now)

    @staticmethod
    def _added(jobs: Sequence[NewJob], reply: list[Any], now: float) -> list[Added]:
        created_at = datetime.fromtimestamp(now, UTC)
        out: list[Added] = []
        for index, new in enumerate(jobs):
            created, value = reply[2 * index], reply[2 * index + 1]
            if created:
                out.append(Added.new(new.stored(int(value), now, created_at)))
            else:
                out.append(Added(to_job(value), created=False))
        return out

    # -- the worker's path ---------------------------------------------------------------

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        if limit < 1 or not types:
            return []
        now = self._clock.now()
        args = [num(now), owner, secrets.token_hex(16), num(now + lease_seconds), str(limit), "0"]
        rows = await self._run("claim", [*args, *types], Replay.AGAIN, again_at=6)
        jobs = [to_job(row) for row in rows]
        leased = self._leased
        if len(leased) > LEASED_CACHE:  # leases never finished through this handle
            leased.clear()
        for job in jobs:
            leased[(job.id, job.lease_token)] = job
        return jobs

    async def next_due(self, types: Sequence[str]) -> float | None:
        if not types:
            return None
        due = await self._read("next_due", *types)
        return None if due is None else float(due)

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> float:
        now = self._clock.now()
        expires = now + lease_seconds
        args = [num(now), str(lease.job_id), lease.token, num(expires)]
        if not await self._run("heartbeat", args, Replay.SAFE):
            raise LeaseLost(lease.job_id)
        return expires

    async def complete(
        self, lease: Lease, result_json: str | None, follow_ups: Sequence[NewJob] = ()
    ) -> tuple[Job, list[Added]]:
        # A job this handle claimed is known: the script need not send it back. While the
        # lease holds nobody else can change it, and the script checks that it holds.
        claimed = self._leased.pop((lease.job_id, lease.token), None)
        args = [
            str(lease.job_id),
            lease.token,
            "0" if result_json is None else "1",
            result_json or "",
            "1" if claimed is None else "0",
            str(len(follow_ups)),
        ]
        if follow_ups:
            now = self._clock.now()
            args += job_args(follow_ups, now, num(now))
        item = _Completion(lease, result_json, follow_ups, claimed, _encodable(args, self.where))
        return await self._completions.submit(item)

    async def _complete_batch(
        self, batch: list[_Completion]
    ) -> list[tuple[Job, list[Added]] | Exception]:
        """One script call completes the batch; each job succeeds or fails alone."""
        now = self._clock.now()
        args = [num(now), "0"]
        for item in batch:
            args += item.args
        replies = await self._run("complete", args, Replay.AGAIN, again_at=2)
        out: list[tuple[Job, list[Added]] | Exception] = []
        for item, reply in zip(batch, replies, strict=True):
            if reply is None:
                out.append(LeaseLost(item.lease.job_id))
                continue
            if reply[0] is not None:
                done = to_job(reply[0])
            else:
                assert item.claimed is not None
                done = finished(item.claimed, JobStatus.COMPLETED, now, item.result_json)
            out.append((done, self._added(item.follow_ups, reply[1], now)))
        return out

    async def fail(self, lease: Lease, error: str, retry_at: float | None) -> Job:
        self._leased.pop((lease.job_id, lease.token), None)
        args = [
            str(lease.job_id),
            lease.token,
            error,
            "" if retry_at is None else num(retry_at),
            "" if retry_at is None else run_key(retry_at),
        ]
        return await self._failures.submit(_Failure(lease, _encodable(args, self.where)))

    async def _fail_batch(self, batch: list[_Failure]) -> list[Job | Exception]:
        """One script call fails the batch (a storm of failures is as busy as a drain)."""
        args = [num(self._clock.now()), "0"]
        for item in batch:
            args += item.args
        rows = await self._run("fail", args, Replay.AGAIN, again_at=2)
        return [
            LeaseLost(item.lease.job_id) if row is None else to_job(row)
            for item, row in zip(batch, rows, strict=True)
        ]

    async def release(
        self, lease: Lease, run_at: float | None = None, note: str | None = None
    ) -> Job:
        now = self._clock.now()
        due = now if run_at is None else run_at
        has_note = "0" if note is None else "1"
        args = [num(now), str(lease.job_id), lease.token, run_key(due), "0", num(due)]
        args += [has_note, note or ""]
        self._leased.pop((lease.job_id, lease.token), None)
        row = await self._run("release", args, Replay.AGAIN, again_at=5)
        if row is None:
            raise LeaseLost(lease.job_id)
        return to_job(row)

    # -- steering ------------------------------------------------------------------------

    async def cancel(self, job_id: JobId) -> Job:
        reply = await self._run("cancel", [num(self._clock.now()), str(job_id)], Replay.NEVER)
        if reply == "notfound":
            raise JobNotFound(job_id)
        if reply == "finished":
            raise InvalidTransition(f"job {job_id} has already finished")
        return to_job(reply)

    async def retry(self, job_id: JobId) -> Job:
        now = self._clock.now()
        reply = await self._run("retry", [num(now), run_key(now), str(job_id)], Replay.NEVER)
        word, detail = reply[0], reply[1]
        if word == "notfound":
            raise JobNotFound(job_id)
        if word == "active":
            raise InvalidTransition(f"job {job_id} is still active")
        if word == "completed":
            raise InvalidTransition(f"job {job_id} completed; only failed or cancelled jobs")
        if word == "held":
            key = (await self.get(job_id)).unique_key
            raise InvalidTransition(f"job {detail} already holds unique key {key!r}")
        return to_job(reply)

    async def reclaim(self, dead_owners: Sequence[str], max_rescues: int) -> list[Job]:
        """Fetch the stalled jobs, decide each by the rescue rule, store the verdicts
        fenced by the leases seen (see :mod:`.stalled`)."""
        stalled = await self._read("stalled", num(self._clock.now()), *dead_owners)
        if not stalled:
            return []
        now = self._clock.now()
        args = [num(now), run_key(now), *verdict_args(stalled, max_rescues)]
        # Not replayed: a repeat would find its own work done, the leases gone, and answer
        # that it moved nothing, so the moved jobs would go unannounced.
        rows = await self._run("rescue", args, Replay.NEVER)
        return [to_job(row) for row in rows]

    async def lease_owners(self) -> list[str]:
        owners: list[str] = await self._read("lease_owners")
        return owners

    # -- reading ------------------------------------------------------------------------

    async def ping(self) -> None:
        # Over the connection every write takes, so a ping answers for the path that matters.
        await self._client.command("ping", ["PING"], Replay.SAFE)

    async def get(self, job_id: JobId) -> Job:
        row = await self._read("get", str(int(job_id)))
        if row[0] is None:
            raise JobNotFound(job_id)
        return to_job(row)

    async def list(self, query: JobQuery) -> Page:
        statuses = [JobStatus(status).value for status in query.statuses]
        rows = await self._read(
            "list",
            "" if query.before_id is None else str(int(query.before_id)),
            str(query.limit + 1),
            "" if query.parent_id is None else str(int(query.parent_id)),
            query.unique_key or "",
            str(len(statuses)),
            *statuses,
            *query.types,
        )
        return page_of([to_job(row) for row in rows], query.limit)

    async def stats(self) -> QueueStats:
        now = self._clock.now()
        counts, oldest, finished = await self._read("stats", num(now), num(now - FINISHED_WINDOW))
        return queue_stats(
            count_rows(counts),
            oldest_due=None if oldest is None else float(oldest),
            finished=int(finished),
            now=now,
        )

    async def prune(
        self,
        *,
        older_than: float | None = None,
        keep: int | None = None,
        statuses: Sequence[JobStatus] = (),
        progress: ProgressCallback | None = None,
    ) -> int:
        return await prune_history(
            self,
            older_than=older_than,
            keep=keep,
            statuses=statuses,
            progress=progress,
            batch=PRUNE_BATCH,
        )

    async def keep_cut(self, keep: int, statuses: Sequence[JobStatus]) -> Cut | None:
        # Counted, not found as a (finished_at, id) boundary: finding the keep-th newest
        # across several sorted sets would read them all. Jobs finishing later are newer
        # than the oldest ``most``, so they stay, as a boundary would keep them.
        excess = int(await self._read("history_size", *_chosen(statuses))) - keep
        return Cut(math.inf, most=excess) if excess > 0 else None

    async def delete_batch(self, cut: Cut, statuses: Sequence[JobStatus], limit: int) -> int:
        through = "" if cut.through_id is None else str(cut.through_id)
        args = [num(cut.finished_at), through, str(limit), *_chosen(statuses)]
        return int(await self._run("prune", args, Replay.NEVER))

    # -- breakers -----------------------------------------------------------------------

    async def breakers(self) -> builtins.list[BreakerState]:
        states = [load_breaker(value) for value in await self._read("breakers")]
        return sorted(states, key=lambda state: state.name)

    async def update_breaker(self, name: str, transition: BreakerTransition) -> BreakerState | None:
        """Optimistic: WATCH the breaker's key, compute, MULTI/EXEC; a concurrent change
        aborts the EXEC and the transition runs again on the new state. A connection lost
        before EXEC is waited out like any call; lost during EXEC, it fails clearly."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        delay = FIRST_BACKOFF
        while True:
            sent = [False]
            try:
                async with asyncio.timeout(self._options.timeout):
                    return await self._update_breaker_once(name, transition, sent)
            except (*NETWORK_ERRORS, TimeoutError) as exc:
                if sent[0]:
                    raise StorageUnavailable(
                        "the connection to Redis broke during a breaker update; it may or "
                        f"may not have been applied: {exc}",
                        where=self.where,
                    ) from exc
                if not is_retryable(exc) or loop.time() - started >= self._options.retry_for:
                    raise translate(exc, self.where) from exc
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                delay = min(delay * 2, MAX_BACKOFF)
            except RedisError as exc:
                raise translate(exc, self.where) from exc

    async def _update_breaker_once(
        self, name: str, transition: BreakerTransition, sent: builtins.list[bool]
    ) -> BreakerState | None:
        key = self._p + "breaker:" + name
        names = self._p + "breakers"
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw: str | None = await pipe.get(key)  # type: ignore[assignment]
                    new = transition(None if raw is None else load_breaker(raw))
                    check_breaker_name(name, new)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if new is None:
                        pipe.delete(key)
                        pipe.srem(names, name)
                    else:
                        pipe.set(key, dump_breaker(new))
                        pipe.sadd(names, name)
                    sent[0] = True
                    await pipe.execute()
                    return new
                except WatchError:
                    sent[0] = False
                    continue

    # -- receiving moved jobs (JobImport, see .importing) ---------------------------------

    async def import_jobs(self, jobs: Sequence[Job]) -> int:
        if not jobs:
            return 0
        check_importable(jobs)
        args = [num(self._clock.now()), *import_args(jobs)]
        # Replayed safely: ids already stored are skipped the second time.
        reply = await self._run("import", args, Replay.SAFE)
        if reply[0] == "held":
            raise InvalidTransition(
                f"job {reply[1]}: unique key {reply[2]!r} is held by job {reply[3]} on the target"
            )
        return int(reply[1])

    # -- the shared event log (see .eventlog) ----------------------------------------------

    async def append_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        # Not replayed after a reply lost in flight: that could store the batch twice.
        args = [str(self._options.event_retention), *event_args(events)]
        await self._run("append_events", args, Replay.NEVER)

    async def read_events(self, after_id: int, limit: int) -> builtins.list[Event]:
        if limit < 1:
            return []
        return to_events(await self._read("read_events", start_after(after_id), str(limit)))

    async def last_event_id(self) -> int:
        last: str | None = await self._read("last_event_id")
        return 0 if last is None else int(last)

    # -- wake-ups and lifecycle ------------------------------------------------------------

    def watch_changes(self) -> RedisWatch:
        """A watch on the wake-up channel (see :mod:`.wake`)."""
        return RedisWatch(self._wake)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._completions.wait_idle()
            await self._failures.wait_idle()
            await self._wake.close()
            await self._client.close()
        finally:
            await self._redis.aclose()
            await self._pool.aclose()


def _chosen(statuses: Sequence[JobStatus]) -> list[str]:
    """The history sets a prune reads: every finished status when ``statuses`` is empty."""
    return [JobStatus(status).value for status in statuses] or HISTORY
