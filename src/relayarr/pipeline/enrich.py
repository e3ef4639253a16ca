"""The ``enrich`` job: ask the providers about an item, keep what they said, and hand the
item to ``publish``.

A scan starts it (:func:`metadata_follow_ups`) when ``[metadata]`` is configured; the
players' notifications ride along in its payload to the end of the chain. A provider
failure never holds the chain: the publish follows at once with whatever is known (the
webhook's values, the NFO), and an enrichment that failed transiently (provider down,
rate limited) is tried again later by a job of its own (reason ``retry``), which retries
with backoff and, once it gets through, publishes again and tells the players the item
changed. With no provider key, enrich records that and passes the item on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from relayarr.errors import LibraryStoreError
from relayarr.jobqueue import Complete, Job, JobSpec, JSONValue, Retry
from relayarr.library.db.metastore import episode_ref, movie_ref, series_ref
from relayarr.library.db.records import ItemKind, ItemSummary, ScanRecord
from relayarr.library.naming import is_video_path
from relayarr.library.results import MovieScan, SeriesScan
from relayarr.metadata import Enrichment, EpisodeMetadata, MovieMetadata, SeriesMetadata
from relayarr.pipeline.context import Library, Metadata, PipelineContext
from relayarr.pipeline.jobs import ENRICH, NOTIFY_PLAYERS, PUBLISH, ScanReason, ScanRequest
from relayarr.pipeline.metajob import EpisodeTarget, MetadataJob, MetadataReason
from relayarr.pipeline.offline import provider_ids
from relayarr.players.change import MediaChange
from relayarr.players.job import notify_payload

log = logging.getLogger(__name__)

Found = dict[
    str, Enrichment[MovieMetadata] | Enrichment[SeriesMetadata] | Enrichment[EpisodeMetadata]
]
"""What one enrich asked (``movie``, ``series``, ``S02E03``) and what it got."""

ENRICH_ATTEMPTS = 5
PUBLISH_ATTEMPTS = 3
METADATA_TIMEOUT = 600.0
"""Seconds an enrich or publish may run (a season of episodes, slow providers)."""
NO_PROVIDER = "no provider key configured: publishing from the webhook and the existing NFO"
NOT_CONFIGURED = "[metadata] is not configured: passed on to the players"
ITEM_GONE = "the item left the library since: nothing to do"


def metadata_follow_ups(
    ctx: PipelineContext,
    request: ScanRequest,
    recorded: ScanRecord,
    scan: MovieScan | SeriesScan,
    changes: Sequence[MediaChange],
) -> list[JobSpec] | None:
    """The ``enrich`` job that continues a scan, carrying its notifications; None when
    metadata is not configured, or the scan found nothing to publish for."""
    if ctx.metadata is None or ctx.library is None:
        return None
    if not changes and request.reason is not ScanReason.MANUAL:
        return None
    folder = Path(request.folder)
    episodes: tuple[EpisodeTarget, ...] = ()
    video = None
    if isinstance(scan, MovieScan):
        video = scan.video.path if scan.video is not None else None
    else:
        everything = recorded.created or request.reason is ScanReason.MANUAL
        touched = {*recorded.added, *recorded.changed}
        episodes = tuple(
            EpisodeTarget(e.season, e.episodes, e.file.path)
            for e in scan.episodes
            if e.episodes and (everything or str(folder / e.file.path) in touched)
        )
    job = MetadataJob(
        kind=recorded.kind,
        item_id=recorded.item_id,
        folder=request.folder,
        video=video,
        episodes=episodes,
        replaced=tuple(p for p in recorded.removed if is_video_path(p)),
        event=request.event,
        notify=tuple(notify_payload(c) for c in changes),
    )
    return [enrich_spec(job)]


def enrich_spec(job: MetadataJob, *, delay: float = 0.0) -> JobSpec:
    return JobSpec(ENRICH, job.to_json(), delay=delay, max_attempts=ENRICH_ATTEMPTS)


def publish_spec(job: MetadataJob) -> JobSpec:
    return JobSpec(PUBLISH, job.to_json(), max_attempts=PUBLISH_ATTEMPTS)


def notify_follow_ups(job: MetadataJob) -> list[JobSpec]:
    """The ``notify-players`` jobs the chain carried to its end."""
    return [JobSpec(NOTIFY_PLAYERS, dict(payload), max_attempts=3) for payload in job.notify]


async def handle_enrich(ctx: PipelineContext, job: Job) -> Complete:
    """Enrich the item of the payload, then publish it (see the module docstring)."""
    request = MetadataJob.from_payload(job.payload)
    meta, library = ctx.metadata, ctx.library
    if meta is None or library is None:
        return Complete({"note": NOT_CONFIGURED}, notify_follow_ups(request))
    try:
        item = await item_summary(library, request)
        if item is None:
            return Complete({"note": ITEM_GONE}, notify_follow_ups(request))
        await library.store.link_job(request.kind, request.item_id, job.id, job.type)
        if not meta.enricher.enabled:
            return Complete({"note": NO_PROVIDER}, [publish_spec(request)])
        found = await _enrich(meta, request, item)
    except LibraryStoreError as exc:
        if job.attempts < job.max_attempts:
            raise Retry(reason=str(exc)) from exc
        # The players must hear of the file even when the library database is down.
        return Complete({"error": str(exc)}, [publish_spec(request)])
    return _next(meta, job, request, found)


async def item_summary(library: Library, request: MetadataJob) -> ItemSummary | None:
    """The library's record of the payload's item (None: deleted since)."""
    if request.kind is ItemKind.MOVIE:
        detail = await library.store.get_movie(request.item_id)
    else:
        detail = await library.store.get_series(request.item_id)
    return detail.item if detail is not None else None


async def _enrich(meta: Metadata, request: MetadataJob, item: ItemSummary) -> Found:
    """Ask the providers; keep what they gave. Keys name what was asked (``movie``,
    ``series``, ``S02E03``)."""
    enricher, store = meta.enricher, meta.store
    found: Found = {}
    if request.kind is ItemKind.MOVIE:
        movie = await enricher.movie(provider_ids(request.event, item, series=False))
        found["movie"] = movie
        if movie.metadata is not None:
            await store.set_provided(movie_ref(request.item_id), movie.metadata)
        return found
    ids = provider_ids(request.event, item, series=True)
    series = await enricher.series(ids)
    found["series"] = series
    show_title = item.title
    if series.metadata is not None:
        await store.set_provided(series_ref(request.item_id), series.metadata)
        ids = ids.merged(series.metadata.ids)
        show_title = series.metadata.title or show_title
    for target in request.episodes:
        episode = await enricher.episode(ids, target.season, target.episode, show_title=show_title)
        found[f"S{target.season:02d}E{target.episode:02d}"] = episode
        if episode.metadata is not None:
            ref = episode_ref(request.item_id, target.season, target.episode)
            await store.set_provided(ref, episode.metadata)
    return found


def _next(
    meta: Metadata,
    job: Job,
    request: MetadataJob,
    found: Found,
) -> Complete:
    summaries: dict[str, JSONValue] = {name: e.summary() for name, e in found.items()}
    result: dict[str, JSONValue] = {"enriched": summaries}
    transient = [f for e in found.values() for f in e.failures if f.kind == "unavailable"]
    if not transient:
        return Complete(result, [publish_spec(request)])
    waits = [f.retry_after for f in transient if f.retry_after is not None]
    delay = max([meta.settings.enrich_retry_seconds, *waits])
    message = "; ".join(f.message for f in transient)
    if request.reason is MetadataReason.RETRY:
        # A retry of its own: the queue's attempts and backoff take it from here.
        raise Retry(delay=delay * 2 ** (job.attempts - 1), reason=message)
    log.warning(
        "enrichment failed for now: publishing without it, retrying later",
        extra={"service": "metadata", "item_id": request.item_id, "in_seconds": delay},
    )
    result["retry_in_seconds"] = delay
    return Complete(result, [publish_spec(request), enrich_spec(request.retry(), delay=delay)])


__all__ = [
    "ENRICH_ATTEMPTS",
    "METADATA_TIMEOUT",
    "NOT_CONFIGURED",
    "NO_PROVIDER",
    "PUBLISH_ATTEMPTS",
    "enrich_spec",
    "handle_enrich",
    "item_summary",
    "metadata_follow_ups",
    "notify_follow_ups",
    "publish_spec",
]
