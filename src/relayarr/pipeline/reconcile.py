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
from pathlib import Path

from relayarr.arr.media import MediaKind
from relayarr.jobqueue import Complete, Job, JobQueue, JobSpec, JSONValue, PermanentFailure
from relayarr.library.reconcile import find_changes
from relayarr.library.roots import LibraryRoot, RootKind
from relayarr.pipeline.context import Library, PipelineContext
from relayarr.pipeline.jobs import (
    RECONCILE,
    RECONCILE_NOW_KEY,
    RECONCILE_PERIODIC_KEY,
    ScanReason,
    ScanRequest,
)
from relayarr.pipeline.notify import Change, ChangeAction, notify_spec
from relayarr.pipeline.scan import scan_type

log = logging.getLogger(__name__)


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
            summary, specs = await _reconcile_root(library, root, job)
        except Exception as exc:  # one root's failure must not stop the schedule
            log.warning(
                "root not reconciled", extra={"root": str(root.path), "error": str(exc)}
            )
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


async def _reconcile_root(
    library: Library, root: LibraryRoot, job: Job
) -> tuple[dict[str, JSONValue], list[JobSpec]]:
    missing = root.missing()
    if missing is not None:
        return {"root": str(root.path), "skipped": f"unavailable: {missing} is missing"}, []
    known = await library.store.folder_signatures(root)
    changes = await asyncio.to_thread(find_changes, root, known)
    specs: list[JobSpec] = []
    for folder in (*changes.new, *changes.changed):
        request = ScanRequest(str(folder), str(root.path), ScanReason.RECONCILE)
        specs.append(
            JobSpec(
                scan_type(root.kind),
                request.to_json(),
                unique_key=request.unique_key(),
                debounce=True,
            )
        )
    kind = MediaKind.MOVIE if root.kind is RootKind.MOVIES else MediaKind.SERIES
    removals = []
    for folder in changes.removed:
        if kind is MediaKind.MOVIE:
            await library.store.remove_movie(str(folder))
        else:
            await library.store.remove_series(str(folder))
        removals.append(Change(ChangeAction.REMOVED, kind, str(folder)))
    notify = notify_spec(removals)
    if notify is not None:
        specs.append(notify)
    summary: dict[str, JSONValue] = {
        "root": str(root.path),
        "folders": changes.seen,
        "new": [_name(f) for f in changes.new],
        "changed": [_name(f) for f in changes.changed],
        "removed": [_name(f) for f in changes.removed],
    }
    return summary, specs


def _name(folder: str | Path) -> str:
    return Path(folder).name


__all__ = ["handle_reconcile", "reconcile_now", "schedule_reconcile"]
