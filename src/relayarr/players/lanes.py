"""One lane per player: its notifications run one batch at a time, and changes that wait
for the same folder share one batch.

A burst of imports into one folder tree (a season pack, 200 movies moved at once) must
not turn into a burst of scans: while one batch runs, every change that arrives for the
same action and folder joins the one batch waiting behind it, so each player sees at
most one request at a time, and a folder at most one scan running and one waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from relayarr.players.change import Action, MediaChange
from relayarr.players.notifier import Delivery, Notifier, Outcome

PLAYING = "a video is playing"

_Key = tuple[Action, str, bool]


@dataclass(eq=False)
class _Batch:
    key: _Key
    changes: list[MediaChange] = field(default_factory=list)
    result: asyncio.Future[Sequence[Delivery]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Lane:
    """Runs one player's notifications in order, batching those for the same folder.

    With ``check_playback`` the batch first asks whether a video plays, and answers
    :data:`~relayarr.players.notifier.Outcome.DEFERRED` for every change if one does,
    without telling the player anything.
    """

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self._lock = asyncio.Lock()
        self._waiting: dict[_Key, _Batch] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, change: MediaChange, *, check_playback: bool) -> Delivery:
        """Tell the player about ``change`` (in a batch); raises what the notifier raises."""
        key = (change.action, change.folder, check_playback)
        batch = self._waiting.get(key)
        if batch is None:
            batch = self._waiting[key] = _Batch(key)
            # Nobody may be left waiting to read it (all callers cancelled): mark it read.
            batch.result.add_done_callback(_consume)
            task = asyncio.create_task(self._run(batch, check_playback))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        index = len(batch.changes)
        batch.changes.append(change)
        deliveries = await asyncio.shield(batch.result)
        return deliveries[index]

    async def _run(self, batch: _Batch, check_playback: bool) -> None:
        async with self._lock:
            # From here on the batch is closed: later changes wait in a new one.
            self._waiting.pop(batch.key, None)
            try:
                if check_playback and await self.notifier.is_playing():
                    result: Sequence[Delivery] = [
                        Delivery(Outcome.DEFERRED, PLAYING) for _ in batch.changes
                    ]
                else:
                    result = await self.notifier.notify(list(batch.changes))
            except Exception as exc:
                batch.result.set_exception(exc)
            except BaseException:
                batch.result.cancel()
                raise
            else:
                batch.result.set_result(result)

    async def aclose(self) -> None:
        """Wait for running batches, then close the notifier."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.notifier.aclose()


def _consume(future: asyncio.Future[Sequence[Delivery]]) -> None:
    if not future.cancelled():
        future.exception()


__all__ = ["PLAYING", "Lane"]
