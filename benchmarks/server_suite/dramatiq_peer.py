"""A Redis peer: dramatiq with its RedisBroker, driven as ``dramatiq`` workers drive it.

* **Enqueue**: ``noop.send()`` in a loop (one Lua ``dispatch`` call per message).
* **Drain**: dramatiq's own :class:`dramatiq.Worker` with ``worker_threads`` threads in
  each worker process (its default is 8): consumer threads prefetch messages, worker
  threads run them and hand acks back. dramatiq has no burst mode, so the worker is
  stopped gracefully (``worker.stop()``: running messages finish, acks are sent, unstarted
  prefetched messages are requeued) once every job ran.
* **Latency**: the same worker, idle, waiting for its consumer to fetch the message.

The broker's default middleware is kept (age and time limits, retries, callbacks,
pipelines, shutdown notifications); no result backend, as dramatiq has none by default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

from benchmarks.common import JOB_TYPE
from benchmarks.server_suite.harness import BenchError, Link
from benchmarks.server_suite.system import EnqueueOne, System

QUEUE_NAME = "bench"
NAMESPACE = "dramatiq"  # the broker's default key prefix


def make_actor(url: str, link: Link | None = None) -> tuple[RedisBroker, dramatiq.Actor[[], None]]:
    """A broker on ``url`` and the ``noop`` actor declared on it."""
    broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]  # dramatiq's __init__

    def noop() -> None:
        if link is not None:
            link.job_ran()

    declare = dramatiq.actor(actor_name=JOB_TYPE, queue_name=QUEUE_NAME, broker=broker)
    actor: dramatiq.Actor[[], None] = declare(noop)
    return broker, actor


def prepare(url: str) -> None:
    """dramatiq has no schema."""


def _left(broker: RedisBroker) -> tuple[int, int, int]:
    """(queued ids, stored messages, dead-lettered messages)."""
    client: Redis = broker.client
    queued = client.llen(f"{NAMESPACE}:{QUEUE_NAME}")
    stored = client.hlen(f"{NAMESPACE}:{QUEUE_NAME}.msgs")
    dead = client.hlen(f"{NAMESPACE}:{QUEUE_NAME}.XQ.msgs")
    return _number(queued), _number(stored), _number(dead)


def _number(reply: object) -> int:
    """A sync client's integer reply (redis-py types replies as maybe-awaitable)."""
    if not isinstance(reply, int):
        raise BenchError(f"dramatiq: expected an integer reply from Redis, got {reply!r}")
    return reply


def enqueue_each(url: str, jobs: int) -> float:
    broker, actor = make_actor(url)
    try:
        started = time.perf_counter()
        for _ in range(jobs):
            actor.send()
        elapsed = time.perf_counter() - started
        queued, stored, _ = _left(broker)
    finally:
        broker.close()
    if (queued, stored) != (jobs, jobs):
        raise BenchError(f"dramatiq: sent {jobs} messages but {queued} are queued")
    return elapsed


def fill(url: str, jobs: int) -> None:
    broker, actor = make_actor(url)
    try:
        for _ in range(jobs):
            actor.send()
    finally:
        broker.close()


def check_drained(url: str, jobs: int) -> None:
    broker, _ = make_actor(url)
    try:
        left = _left(broker)
    finally:
        broker.close()
    if left != (0, 0, 0):
        raise BenchError(f"dramatiq: (queued, stored, dead) = {left} after the drain")


@contextmanager
def producer(url: str) -> Iterator[EnqueueOne]:
    broker, actor = make_actor(url)

    def one() -> float:
        before = time.monotonic()
        actor.send()
        return before

    try:
        yield one
    finally:
        broker.close()


def work(url: str, concurrency: int, link: Link, drain: bool) -> None:
    try:
        broker, _ = make_actor(url, link)
        worker = dramatiq.Worker(broker, worker_threads=concurrency)
        link.ready()
        link.go.wait()
        worker.start()
        link.stop.wait()
        worker.stop()
        link.stopped()
        broker.close()
    except BaseException as exc:
        link.failed(exc)
        raise


SYSTEM = System(
    name="dramatiq",
    engine="redis",
    prepare=prepare,
    enqueue_each=enqueue_each,
    fill=fill,
    check_drained=check_drained,
    producer=producer,
    worker=work,
    concurrency=(8,),
)
