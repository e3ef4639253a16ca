"""Pruning history, written once: the batches, the progress reports and when to stop.

An engine offers two small verbs (:class:`PruneBatches`): where its history beyond the
newest ``keep`` jobs ends, and deleting one batch of finished jobs inside a :class:`Cut`.
:func:`prune_history` checks the arguments, then deletes batch after batch until one comes
back short, reporting the running total after each. Batches keep every statement short,
so workers' claims and completions are never held up for long behind a prune.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from relayarr.jobqueue.models import JobStatus
from relayarr.jobqueue.storage import ProgressCallback
from relayarr.jobqueue.storage.rules import check_prune_arguments


@dataclass(frozen=True, slots=True)
class Cut:
    """The finished jobs one prune pass deletes: those finished before ``finished_at``, and
    those finished at it with an id up to ``through_id`` when that is set; with ``most``
    set, only the oldest ``most`` of them by (finished_at, id).

    Measured once, before the first batch: jobs that finish while the batches run are
    newer than the cut and stay.
    """

    finished_at: float
    through_id: int | None = None
    most: int | None = None


class PruneBatches(Protocol):
    """What an engine does for :func:`prune_history`.

    An engine either finds a boundary (``keep_cut`` gives ``finished_at`` and
    ``through_id``: the SQL engines, from an index) and may delete inside it in any order,
    or counts (``keep_cut`` gives ``most``: Redis) and then deletes the oldest first.
    """

    async def keep_cut(self, keep: int, statuses: Sequence[JobStatus]) -> Cut | None:
        """The cut that leaves the newest ``keep`` finished jobs of ``statuses`` (every
        finished status when empty) as history stands now; None when nothing is beyond."""
        ...

    async def delete_batch(self, cut: Cut, statuses: Sequence[JobStatus], limit: int) -> int:
        """Delete up to ``limit`` finished jobs of ``statuses`` inside ``cut``, the oldest
        first when ``cut.most`` is set (the caller counts it down); how many went."""
        ...


async def prune_history(
    engine: PruneBatches,
    *,
    older_than: float | None,
    keep: int | None,
    statuses: Sequence[JobStatus],
    progress: ProgressCallback | None,
    batch: int,
) -> int:
    """Delete history finished before ``older_than`` and/or beyond the newest ``keep``, in
    batches of ``batch``; calls ``progress`` with the running total after each batch that
    deleted something, and returns the total. Bad arguments are refused before anything
    is deleted."""
    check_prune_arguments(keep, statuses)
    deleted = 0

    async def drain(cut: Cut) -> None:
        nonlocal deleted
        left = cut.most
        while left is None or left > 0:
            size = batch if left is None else min(batch, left)
            count = await engine.delete_batch(cut, statuses, size)
            deleted += count
            if progress is not None and count:
                progress(deleted)
            if count < size:
                return
            if left is not None:
                left -= count

    if older_than is not None:
        await drain(Cut(older_than))
    if keep is not None:
        cut = await engine.keep_cut(keep, statuses)
        if cut is not None:
            await drain(cut)
    return deleted


__all__ = ["Cut", "PruneBatches", "prune_history"]
