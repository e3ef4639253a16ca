"""Group commit for completions: those of one event-loop turn share one statement.

A worker running many jobs at once completes them in bursts. Every ``complete`` without
follow-ups that arrives during one turn of the event loop joins a batch; the batch runs as
one ``finish_leased`` statement over arrays (one round trip, one commit, however many jobs),
and each caller gets its own answer: the finished job, or LeaseLost when its lease was not
current. Completions with follow-up jobs need their own transaction and do not batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from relayarr.jobqueue.errors import LeaseLost
from relayarr.jobqueue.models import Job, JobStatus, Lease
from relayarr.jobqueue.storage.postgres.connection import Database
from relayarr.jobqueue.storage.sql import ID, row_to_job


@dataclass(slots=True)
class _Completion:
    lease: Lease
    result_json: str | None
    future: asyncio.Future[Job]


class CompletionBatcher:
    """Collects completions during one loop turn and finishes them in one statement."""

    def __init__(self, db: Database, queries: dict[str, str], now: Callable[[], float]) -> None:
        self._db = db
        self._sql = queries["finish_leased"]
        self._find = queries["find_finished"]
        self._now = now
        self._batch: list[_Completion] = []
        self._ids: set[int] = set()
        self._running: set[asyncio.Task[None]] = set()

    async def complete(self, lease: Lease, result_json: str | None) -> Job:
        loop = asyncio.get_running_loop()
        if lease.job_id in self._ids:
            # The same job twice in one batch would make both callers succeed; the second
            # waits for the next batch and then finds the lease gone.
            await asyncio.sleep(0)
            return await self.complete(lease, result_json)
        future: asyncio.Future[Job] = loop.create_future()
        if not self._batch:
            loop.call_soon(self._flush)
        self._batch.append(_Completion(lease, result_json, future))
        self._ids.add(lease.job_id)
        return await future

    def _flush(self) -> None:
        batch, self._batch, self._ids = self._batch, [], set()
        task = asyncio.get_running_loop().create_task(self._finish(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _finish(self, batch: list[_Completion]) -> None:
        ids = [entry.lease.job_id for entry in batch]
        tokens = [entry.lease.token for entry in batch]
        results = [entry.result_json for entry in batch]
        now = self._now()
        status = JobStatus.COMPLETED.value

        async def finished(conn: Any) -> tuple[bool, Any]:
            # One statement: it committed for all of the batch or for none of it.
            rows = await conn.fetch(self._find, ids, now)
            return bool(rows), rows

        try:
            rows = await self._db.run(
                lambda conn: conn.fetch(self._sql, ids, tokens, results, None, status, now),
                name="complete",
                write=True,
                resolve=finished,
            )
        except BaseException as exc:
            for entry in batch:
                if not entry.future.done():
                    entry.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        by_id = {row[ID]: row for row in rows}
        for entry in batch:
            if entry.future.done():
                continue
            row = by_id.get(entry.lease.job_id)
            if row is None:
                entry.future.set_exception(LeaseLost(entry.lease.job_id))
            else:
                entry.future.set_result(row_to_job(row))

    async def drain(self) -> None:
        """Wait until every batch submitted so far has finished."""
        while self._batch or self._running:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            else:
                await asyncio.sleep(0)
