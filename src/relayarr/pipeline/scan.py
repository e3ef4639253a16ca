"""The ``scan-movie`` and ``scan-series`` handlers, and :func:`add_scan` that enqueues them.

A scan reads one item folder (in a thread: it is blocking file-system work), records it
in the library database, links the job to the item, and hands what changed to the next
stage: the players (and, once configured, enrichment and publishing before them).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from relayarr.arr.media import MediaKind
from relayarr.jobqueue import Complete, Job, JobSpec, JobStatus, PermanentFailure
from relayarr.library.roots import RootKind
from relayarr.pipeline.context import Library, PipelineContext
from relayarr.pipeline.jobs import SCAN_MOVIE, SCAN_SERIES, ScanRequest
from relayarr.pipeline.notify import Change, ChangeAction, notify_spec

log = logging.getLogger(__name__)

RESULT_FILE_ERRORS = 20
"""Per-file errors a scan's job result lists (all of them are in the library database)."""


def scan_type(kind: RootKind) -> str:
    """The scan job type for items of a root of ``kind``."""
    return SCAN_MOVIE if kind is RootKind.MOVIES else SCAN_SERIES


async def add_scan(
    ctx: PipelineContext,
    library: Library,
    request: ScanRequest,
    *,
    kind: RootKind,
    parent_id: int | None = None,
    delay: float | None = None,
) -> Job:
    """Enqueue a scan of ``request.folder``, coalescing with one already waiting for it.

    The scan waits ``delay`` (default ``settle_seconds``) after the last request for its
    folder. A scan already running may have read the folder before this change, so then
    one more waits behind it instead.
    """
    settle = library.settle_seconds if delay is None else delay
    job_type = scan_type(kind)
    key = request.unique_key()
    payload = request.to_json()
    queue = ctx.queue
    job = await queue.add_job(
        job_type, payload, unique_key=key, debounce=True, delay=settle, parent_id=parent_id
    )
    if job.status is JobStatus.PROCESSING:
        job = await queue.add_job(
            job_type,
            payload,
            unique_key=f"{key}#after:{job.id}",
            debounce=True,
            delay=settle,
            parent_id=parent_id,
        )
    return job


async def handle_scan(ctx: PipelineContext, job: Job) -> Complete:
    """Scan the folder, record it, and follow up with what the players must learn."""
    library = ctx.library
    if library is None:
        raise PermanentFailure("no library root is configured ([[library.roots]])")
    request = ScanRequest.from_payload(job.payload)
    located = library.resolver.local(request.folder)
    root = located.root
    folder = Path(request.folder)
    kind = MediaKind.MOVIE if root.kind is RootKind.MOVIES else MediaKind.SERIES
    if not folder.is_dir():
        return await _gone(library, job, request, kind)
    scanner, store = library.scanner, library.store
    if kind is MediaKind.MOVIE:
        hint = Path(request.hint) if request.hint else None
        scan = await asyncio.to_thread(scanner.scan_movie, folder, hint)
        recorded = await store.record_movie_scan(scan, root, request.event)
    else:
        scan = await asyncio.to_thread(scanner.scan_series, folder)
        recorded = await store.record_series_scan(scan, root, request.event)
    await store.link_job(kind.value, recorded.item_id, job.id, job.type)
    if job.parent_id is not None:
        await store.link_job(kind.value, recorded.item_id, job.parent_id, "parent")
    changes = _changes(kind, folder, recorded, request)
    follow_ups = [spec for spec in [notify_spec(changes)] if spec is not None]
    errors = [error.to_json() for error in scan.errors[:RESULT_FILE_ERRORS]]
    result = {
        "folder": request.folder,
        "reason": request.reason.value,
        "item_id": recorded.item_id,
        "created": recorded.created,
        "added": list(recorded.added),
        "changed": list(recorded.changed),
        "removed": list(recorded.removed),
        "files": scan.file_count,
        "errors": errors,
        "error_count": len(scan.errors),
    }
    log.info(
        "folder scanned",
        extra={
            "folder": request.folder,
            "files": scan.file_count,
            "added": len(recorded.added),
            "removed": len(recorded.removed),
            "errors": len(scan.errors),
        },
    )
    return Complete(result=result, follow_ups=[*follow_ups])


async def _gone(library: Library, job: Job, request: ScanRequest, kind: MediaKind) -> Complete:
    """The folder vanished since the scan was asked for: forget the item, tell players."""
    if kind is MediaKind.MOVIE:
        await library.store.remove_movie(request.folder)
    else:
        await library.store.remove_series(request.folder)
    change = Change(ChangeAction.REMOVED, kind, request.folder)
    spec = notify_spec([change])
    follow_ups: list[JobSpec] = [spec] if spec is not None else []
    return Complete(result={"folder": request.folder, "gone": True}, follow_ups=follow_ups)


def _changes(kind: MediaKind, folder: Path, recorded: object, request: ScanRequest) -> list[Change]:
    raise NotImplementedError


__all__ = ["RESULT_FILE_ERRORS", "add_scan", "handle_scan", "scan_type"]
