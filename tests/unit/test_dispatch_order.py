"""What an idle dispatcher does between a wake-up and the handler's first line, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from fakes import MemoryStorage, MemoryWatch, wait_until

from relayarr.jobqueue import FakeClock, Job, JobQueue


class RecordingStorage(MemoryStorage):
    """Notes claims that took jobs and next_due calls, in the order they happen."""

    def __init__(self, order: list[str]) -> None:
        super().__init__(FakeClock())
        self.order = order

    async def claim(
        self, owner: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        jobs = await super().claim(owner, types, limit, lease_seconds)
        if jobs:
            self.order.append("claim")
        return jobs

    async def next_due(self, types: Sequence[str]) -> float | None:
        self.order.append("next_due")
        return await super().next_due(types)


class BrokenWatch(MemoryWatch):
    async def wait(self, max_wait: float) -> None:
        raise RuntimeError("the watch broke")


class BrokenWatchStorage(MemoryStorage):
    def watch_changes(self) -> MemoryWatch:
        return BrokenWatch(self._database)


@pytest.mark.parametrize("concurrency", [2, 4, 8])
async def test_a_claimed_job_starts_before_the_idle_bookkeeping(concurrency: int) -> None:
    # With free slots left the dispatcher goes idle after the claim, and asks storage
    # when the next delayed job is due: a round trip the handler must not wait behind.
    order: list[str] = []
    storage = RecordingStorage(order)
    queue = JobQueue(storage, poll_interval=60.0)

    @queue.handler("work")
    async def work(job: Job) -> None:
        order.append("handler")

    await queue.start(concurrency=concurrency)
    try:
        await wait_until(lambda: "next_due" in order, "the dispatcher to go idle")
        await queue.add_job("work")
        await wait_until(
            lambda: "claim" in order and "next_due" in order[order.index("claim") :],
            "the idle bookkeeping after the claim",
        )
    finally:
        await queue.stop(timeout=1.0)
    after_claim = order[order.index("claim") + 1 :]
    assert "handler" in after_claim
    assert after_claim.index("handler") < after_claim.index("next_due"), order


async def test_a_change_watch_that_fails_is_logged_and_paused_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = BrokenWatchStorage(FakeClock())
    queue = JobQueue(storage, poll_interval=60.0)
    ran = asyncio.Event()

    @queue.handler("work")
    async def work(job: Job) -> None:
        ran.set()

    await queue.start()
    try:
        await wait_until(lambda: "the watch broke" in caplog.text, "the broken watch's error")
        assert "dispatcher error; retrying" in caplog.text
        claims = storage.calls["claim"]
        # Paused on, not spun on: nothing claims again until something wakes it.
        for _ in range(50):
            await asyncio.sleep(0)
        assert storage.calls["claim"] == claims
        await queue.add_job("work")  # an in-process add still wakes it
        await asyncio.wait_for(ran.wait(), timeout=5.0)
    finally:
        await queue.stop(timeout=1.0)
