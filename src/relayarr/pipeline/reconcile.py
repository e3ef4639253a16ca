"""The ``reconcile`` handler: find what changed on disk since the last scans, and feed it
into the same chain as a webhook would (scans for new and changed folders, removals for
folders that went), so a webhook lost while relayarr was down is caught up.

Two jobs share the handler: the periodic one (``{"periodic": true}``, unique key
``reconcile``), which schedules its successor atomically with its own completion, so one
schedule runs per deployment however many processes have workers; and one asked for now
(``relayarr scan --all``, a start-up catch-up; key ``reconcile-now``).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing
from pathlib import Path

from relayarr.arr.media import MediaKind
from relayarr.jobqueue import Complete, Job, JobQueue, JobSpec, JSONValue, PermanentFailure
from relayarr.library.reconcile import (
    ChangeKind,
    Progress,
    Reconciler,
    ReconcileStats,
    count_item_folders,
)
from relayarr.library.roots import LibraryRoot, RootKind
from relayarr.pipeline.context import Library, PipelineContext
from relayarr.pipeline.jobs import (
    RECONCILE,
    RECONCILE_NOW_KEY,
    RECONCILE_PERIODIC_KEY,
    ScanReason,
    ScanRequest,
)
from relayarr.pipeline.notify import change as change_of
from relayarr.pipeline.notify import notify_specs
from relayarr.pipeline.scan import scan_type
from relayarr.players.change import Action, MediaChange

log = logging.getLogger(__name__)

RESULT_FOLDERS = 50
"""Folders of each kind (new, changed, removed) a root's summary names at most."""


async def schedule_reconcile(queue: JobQueue, library: Library) -> Job | None:
    """Make sure the periodic reconciliation is scheduled (once per deployment: the
    unique key returns the one already waiting), and catch up soon after a start."""
    every = library.reconcile_every
    if every <= 0:
        return None
    await queue.add_job(
        RECONCILE, {"periodic": False}, unique_key=RECONCILE_NOW_KEY, delay=library.settle_seconds
    )
    return await queue.add_job(
        RECONCILE, {"periodic": True}, unique_key=RECONCILE_PERIODIC_KEY, delay=every
    )


async def reconcile_now(queue: JobQueue) -> Job:
    """Ask for a reconciliation of every root now (``relayarr scan --all``)."""
    return await queue.add_job(RECONCILE, {"periodic": False}, unique_key=RECONCILE_NOW_KEY)


async def handle_reconcile(ctx: PipelineContext, job: Job) -> Complete:
    """Walk every root; scan new and changed folders, remove vanished ones; per root a
    summary (or why it was skipped). A root that fails does not stop the others, and the
    periodic job always schedules its successor."""
    library = ctx.library
    if library is None:
        raise PermanentFailure("no library root is configured ([[library.roots]])")
    roots = library.roots.roots
    summaries: list[JSONValue] = []
    follow_ups: list[JobSpec] = []
    for index, root in enumerate(roots):
        ctx.queue.progress(job, index / len(roots), f"reconciling {root.path}")
        try:
            report = _progress_reporter(ctx.queue, job, index, len(roots), root)
            summary, specs = await _reconcile_root(library, root, await report)
        except Exception as exc:  # one root's failure must not stop the schedule
            log.warning("root not reconciled", extra={"root": str(root.path), "error": str(exc)})
            summary, specs = {"root": str(root.path), "error": str(exc)}, []
        summaries.append(summary)
        follow_ups.extend(specs)
    ctx.queue.progress(job, 1.0, "reconciled")
    if job.payload.get("periodic") is True and library.reconcile_every > 0:
        follow_ups.append(
            JobSpec(
                RECONCILE,
                {"periodic": True},
                unique_key=RECONCILE_PERIODIC_KEY,
                delay=library.reconcile_every,
            )
        )
    return Complete(result={"roots": summaries}, follow_ups=follow_ups)


async def _progress_reporter(
    queue: JobQueue, job: Job, index: int, count: int, root: LibraryRoot
) -> Progress:
    """A progress callback for the pass over ``root``, the ``index``-th of ``count``:
    the share of the root's folders examined so far, and what was found."""
    total = await asyncio.to_thread(count_item_folders, root)

    def report(stats: ReconcileStats) -> None:
        share = min(1.0, stats.folders / total) if total else 1.0
        message = (
            f"{root.path}: {stats.folders:,} of {total:,} folders, {stats.new:,} new, "
            f"{stats.changed:,} changed, {stats.removed:,} removed"
        )
        queue.progress(job, min(1.0, (index + share) / count), message)

    return report


async def _reconcile_root(
    library: Library, root: LibraryRoot, progress: Progress
) -> tuple[dict[str, JSONValue], list[JobSpec]]:
    missing = root.missing()
    if missing is not None:
        return {"root": str(root.path), "skipped": f"unavailable: {missing} is missing"}, []
    kind = MediaKind.MOVIE if root.kind is RootKind.MOVIES else MediaKind.SERIES
    found: dict[ChangeKind, list[str]] = {kind_: [] for kind_ in ChangeKind}
    specs: list[JobSpec] = []
    removals: list[MediaChange] = []
    first_pass = not await _has_items(library, root)
    reason = ScanReason.BASELINE if first_pass else ScanReason.RECONCILE
    async for found_change in Reconciler(library.store).changes(root, progress):
        found[found_change.kind].append(found_change.folder)
        if found_change.kind is ChangeKind.REMOVED:
            if kind is MediaKind.MOVIE:
                await library.store.remove_movie(found_change.folder)
            else:
                await library.store.remove_series(found_change.folder)
            removals.append(change_of(Action.REMOVED, kind, found_change.folder))
            continue
        request = ScanRequest(found_change.folder, str(root.path), reason)
        specs.append(
            JobSpec(
                scan_type(root.kind),
                request.to_json(),
                unique_key=request.unique_key(),
                debounce=True,
            )
        )
    specs.extend(notify_specs(removals))
    summary: dict[str, JSONValue] = {"root": str(root.path), "first_pass": first_pass}
    for kind_, folders in found.items():
        summary[kind_.value] = [_name(folder) for folder in folders[:RESULT_FOLDERS]]
        summary[f"{kind_.value}_count"] = len(folders)
    return summary, specs


async def _has_items(library: Library, root: LibraryRoot) -> bool:
    # aclosing: the generator is left after one row; close it now, not at garbage collection.
    async with aclosing(library.store.folder_signatures(root, batch=1)) as signatures:
        first = await anext(aiter(signatures), None)
    return first is not None


def _name(folder: str | Path) -> str:
    return Path(folder).name


__all__ = ["handle_reconcile", "reconcile_now", "schedule_reconcile"]
