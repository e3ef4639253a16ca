"""The ``webhook`` handler: parse what was stored, normalise it, and route it.

Downloads and renames become a scan of the item's folder (one per folder: a burst of
events for it coalesces into one scan, run ``settle_seconds`` after the last); deletes
update the library database and tell the players; everything else is recorded in the
job's result, which is the parsed summary of the webhook plus what was done with it.
"""

from __future__ import annotations

import asyncio
import logging

from relayarr.arr import ArrEvent, Source, parse_webhook
from relayarr.arr.media import Action, MediaEvent, MediaKind, media_event
from relayarr.errors import PayloadInvalid
from relayarr.jobqueue import Job, JSONObject, JSONValue, PermanentFailure
from relayarr.pipeline.context import Library, PipelineContext
from relayarr.pipeline.jobs import ScanReason, ScanRequest
from relayarr.pipeline.notify import add_notifies, change
from relayarr.pipeline.scan import add_scan
from relayarr.players.change import Action as ChangeAction

log = logging.getLogger(__name__)

_SOURCES = {source.value: source for source in Source}
NO_LIBRARY = "recorded only: no library root is configured ([[library.roots]])"


async def handle_webhook(ctx: PipelineContext, job: Job) -> JSONValue:
    """Parse a stored webhook, route it, and return its summary with ``action`` (scan,
    remove or recorded) and what followed (``scan_job``, ``notify_job``, ``folder``).

    Fails for good when the payload lacks a known ``source`` or a ``body``, or the body no
    longer parses (the web service accepted it with the same parser, so the parser changed
    since; the message names the field), and when a path cannot be mapped into a library
    root (the message names the path and the rules tried).
    """
    payload = job.payload
    parsed = _parse_stored(payload)
    instance = payload.get("instance")
    event = media_event(parsed, instance if isinstance(instance, str) else None)
    summary = parsed.summary()
    if event.instance is not None:
        summary["endpoint_instance"] = event.instance
    library = ctx.library
    if event.action is Action.RECORD or library is None:
        summary["action"] = "recorded"
        if event.action is not Action.RECORD:
            summary["note"] = NO_LIBRARY
        return summary
    if event.action is Action.SCAN:
        summary.update(await _scan(ctx, library, job, event))
    else:
        summary.update(await _remove(ctx, library, job, event))
    log.info(
        "webhook routed",
        extra={
            "source": event.source.value,
            "event": event.event,
            "action": summary["action"],
            "folder": summary.get("folder"),
        },
    )
    return summary


async def _scan(ctx: PipelineContext, library: Library, job: Job, event: MediaEvent) -> JSONObject:
    # Off the event loop: a hung network mount blocks every look at the disk.
    item = await asyncio.to_thread(library.resolver.item, event, must_exist=True)
    request = ScanRequest(
        folder=str(item.folder),
        root=str(item.root.path),
        reason=ScanReason.WEBHOOK,
        hint=str(item.files[0]) if item.files else None,
        event=event,
    )
    scan = await add_scan(
        ctx.queue,
        request,
        kind=item.root.kind,
        settle=library.settle_seconds,
        parent_id=job.id,
    )
    return {
        "action": "scan",
        "folder": request.folder,
        "mapping": item.mapping,
        "scan_job": scan.id,
        "coalesced": scan.parent_id != job.id,
    }


async def _remove(
    ctx: PipelineContext, library: Library, job: Job, event: MediaEvent
) -> JSONObject:
    item = await asyncio.to_thread(library.resolver.item, event, must_exist=False)
    result: dict[str, JSONValue] = {
        "action": "remove",
        "folder": str(item.folder),
        "mapping": item.mapping,
    }
    store = library.store
    event_kind = event.kind or MediaKind.MOVIE
    if event.whole_item:
        if not event.files_deleted:
            # The *arr forgot the item but left its files: the players still have them.
            result["action"] = "recorded"
            result["note"] = "files kept on disk: nothing to remove"
            return result
        if event.kind is MediaKind.MOVIE:
            await store.remove_movie(str(item.folder))
        else:
            await store.remove_series(str(item.folder))
        changes = [change(ChangeAction.REMOVED, event_kind, item.folder, None, event)]
    else:
        await store.remove_files([str(path) for path in item.removed])
        changes = [
            change(ChangeAction.REMOVED, event_kind, item.folder, p, event) for p in item.removed
        ]
    notifies = await add_notifies(ctx.queue, changes, parent_id=job.id)
    result["removed"] = [str(path) for path in item.removed] or [str(item.folder)]
    result["notify_jobs"] = [notify.id for notify in notifies]
    return result


def _parse_stored(payload: JSONObject) -> ArrEvent:
    raw_source = payload.get("source")
    source = _SOURCES.get(raw_source) if isinstance(raw_source, str) else None
    if source is None:
        raise PermanentFailure(f"webhook job has no known source: {raw_source!r}")
    if "body" not in payload:
        raise PermanentFailure("webhook job has no body")
    try:
        return parse_webhook(source, payload["body"])
    except PayloadInvalid as exc:
        raise PermanentFailure(f"stored {source} webhook no longer parses: {exc}") from exc


__all__ = ["NO_LIBRARY", "handle_webhook"]
