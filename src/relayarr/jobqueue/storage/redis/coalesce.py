"""Many calls of one kind as one: what callers ask while a batch is on its way goes next.

A worker finishing 32 jobs makes 32 completions in about one turn of the event loop. Sent
as 32 script calls they cost the server 32 script starts and 32 of every index write; sent
as one call, one of each (see ``flush_later`` in _lib.lua). At most one batch per kind is
in flight: under load each round trip carries everything asked during the one before, and
a lone call waits no longer than a loop turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from relayarr.jobqueue.errors import StorageUnavailable

Item = TypeVar("Item")
Result = TypeVar("Result")

# Sends one batch; answers each item in order with its result or the error it raises.
Send = Callable[[list[Item]], Awaitable[Sequence[Result | Exception]]]


class Coalescer(Generic[Item, Result]):
    """Gathers items into batches of at most ``limit`` and answers each caller alone."""

    def __init__(self, send: Send[Item, Result], limit: int, where: str) -> None:
        self._send = send
        self._limit = limit
        self._where = where
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._task is None:
            self._task = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._limit]
                del self._waiting[: self._limit]
                batch = [(item, future) for item, future in batch if not future.done()]  # gone
                if batch:
                    await self._answer(batch)
                batch = []
        except BaseException:
            error = StorageUnavailable("storage is closing", where=self._where)
            for _, future in batch + self._waiting:
                if not future.done():
                    future.set_exception(error)
            self._waiting = []
            raise
        finally:
            self._task = None

    async def _answer(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._send([item for item, _ in batch])
        except Exception as exc:  # the whole batch failed: each caller hears why
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def wait_idle(self) -> None:
        """Return once every batch asked for so far has been answered."""
        while (task := self._task) is not None:
            await asyncio.wait([task])
