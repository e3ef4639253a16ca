"""The ``scan-movie`` and ``scan-series`` handlers, and :func:`add_scan` that enqueues them.

A scan reads one item folder (in a thread: it is blocking file-system work), records it
in the library database, links the job to the item, and hands what changed to the next
stage: the players, with enrichment and publishing before them once ``[metadata]`` is
configured.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from relayarr.arr.media import MediaEvent, MediaKind
from relayarr.jobqueue import (
    Complete,
    Job,
    JobQueue,
    JobStatus,
    JSONValue,
    PermanentFailure,
)
from relayarr.library.db.records import EventInfo, ItemKind, ScanRecord
from relayarr.library.naming import is_video_path
from relayarr.library.results import MovieScan, SeriesScan
from relayarr.library.roots import RootKind
from relayarr.pipeline.context import Library, PipelineContext
from relayarr.pipeline.enrich import metadata_follow_ups
from relayarr.pipeline.jobs import SCAN_MOVIE, SCAN_SERIES, ScanReason, ScanRequest
from relayarr.pipeline.notify import change, notify_specs
from relayarr.players.change import Action, MediaChange

log = logging.getLogger(__name__)

RESULT_ISSUES = 20
"""Unreadable files a scan's job result lists at most (the count says how many in all)."""


def scan_type(kind: RootKind) -> str:
    """The scan job type for items of a root of ``kind``."""
    return SCAN_MOVIE if kind is RootKind.MOVIES else SCAN_SERIES


async def add_scan(
    queue: JobQueue,
    request: ScanRequest,
    *,
    kind: RootKind,
    settle: float,
    parent_id: int | None = None,
) -> Job:
    """Enqueue a scan of ``request.folder``, coalescing with one already waiting for it.

    The scan waits ``settle`` seconds (``library.settle_seconds`` for webhooks, 0 for a
    manual scan) after the last request for its folder. A scan already running may have
    read the folder before this change, so then one more waits behind it instead.
    """
    job_type = scan_type(kind)
    key = request.unique_key()
    payload = request.to_json()
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
    # Off the event loop: a hung network mount blocks every look at the disk.
    located = await asyncio.to_thread(library.resolver.local, request.folder)
    root = located.root
    folder = Path(request.folder)
    kind = MediaKind.MOVIE if root.kind is RootKind.MOVIES else MediaKind.SERIES
    if not await asyncio.to_thread(folder.is_dir):
        return await _gone(library, job, request, kind)
    scanner, store = library.scanner, library.store
    info = event_info(request.event)
    scan: MovieScan | SeriesScan
    if kind is MediaKind.MOVIE:
        scan = await asyncio.to_thread(scanner.scan_movie, folder, request.hint)
        recorded = await store.record_movie_scan(scan, root, info)
        video = scan.video.path if scan.video is not None else None
    else:
        scan = await asyncio.to_thread(scanner.scan_series, folder)
        recorded = await store.record_series_scan(scan, root, info)
        video = None
    item_kind = ItemKind(kind.value)
    await store.link_job(item_kind, recorded.item_id, job.id, job.type)
    if job.parent_id is not None:
        parent = await ctx.queue.get_job(job.parent_id)
        await store.link_job(item_kind, recorded.item_id, parent.id, parent.type)
    changes = scan_changes(kind, request, recorded, video)
    # With [metadata], enrich and publish come first and carry the notifications on.
    follow_ups = metadata_follow_ups(ctx, request, recorded, scan, changes) or notify_specs(changes)
    result: dict[str, JSONValue] = {
        "folder": request.folder,
        "reason": request.reason.value,
        **recorded.to_json(),
        "video": video,
        "issues": [issue.to_json() for issue in scan.issues[:RESULT_ISSUES]],
        "issue_count": len(scan.issues),
    }
    return Complete(result=result, follow_ups=follow_ups)


async def _gone(library: Library, job: Job, request: ScanRequest, kind: MediaKind) -> Complete:
    """The folder vanished since the scan was asked for: forget the item, tell players."""
    if kind is MediaKind.MOVIE:
        await library.store.remove_movie(request.folder)
    else:
        await library.store.remove_series(request.folder)
    gone = change(Action.REMOVED, kind, request.folder, None, request.event)
    return Complete(
        result={"folder": request.folder, "gone": True}, follow_ups=notify_specs([gone])
    )


def event_info(event: MediaEvent | None) -> EventInfo | None:
    """What the webhook knew of the item, for the library database (None for scans that
    no webhook asked for)."""
    if event is None:
        return None
    ids = event.ids
    return EventInfo(
        title=event.title, year=event.year, tmdb_id=ids.tmdb, imdb_id=ids.imdb, tvdb_id=ids.tvdb
    )


def scan_changes(
    kind: MediaKind, request: ScanRequest, recorded: ScanRecord, video: str | None
) -> list[MediaChange]:
    """What the players must learn after a scan, one change per ``notify-players`` job.

    A new item is added as a whole (a new series as its folder, which a player must scan
    to learn the show); a known one is changed, with its one new or changed video named
    when there is exactly one; videos that went (an upgrade's old file, a rename's old
    name) are removed each, which makes Kodi clean them from that folder only. A scan a
    webhook or a person asked for tells the players even when the files look unchanged
    (the *arr says something happened; a person scans a folder by hand mostly because a
    player missed it); a reconciliation tells them only of real differences, and the
    first pass over a root (a library the players already hold) tells them nothing.
    """
    if request.reason is ScanReason.BASELINE:
        return []
    if recorded.unchanged and request.reason is ScanReason.RECONCILE:
        return []
    folder = Path(request.folder)
    event = request.event
    if recorded.created:
        file = folder / video if video is not None and kind is MediaKind.MOVIE else None
        return [change(Action.ADDED, kind, folder, file, event)]
    touched = [p for p in (*recorded.added, *recorded.changed) if is_video_path(p)]
    if kind is MediaKind.MOVIE and video is not None:
        touched = [str(folder / video)]
    changes = [
        change(Action.CHANGED, kind, folder, touched[0] if len(touched) == 1 else None, event)
    ]
    changes += [
        change(Action.REMOVED, kind, folder, gone, event)
        for gone in recorded.removed
        if is_video_path(gone)
    ]
    return changes


__all__ = ["RESULT_ISSUES", "add_scan", "event_info", "handle_scan", "scan_changes", "scan_type"]
