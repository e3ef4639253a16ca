"""The ``publish`` job: write the item's NFO and artwork beside its media, then tell the
players (the ``notify-players`` jobs the chain carried from the scan).

The sources, best first: what the last enrichment kept (the providers), what the webhook
carried (or the library's record of the item when no webhook asked), the existing NFO;
locked fields keep the user's values whatever they say. A file that cannot be published
(a malformed NFO, an image too large or not an image) is a message in the job's result,
and the rest is still published and the players still told. File work runs in threads
(the publisher's), so a slow share never holds the event loop.
"""

from __future__ import annotations

import logging
from pathlib import Path

from relayarr.arr.media import MediaKind
from relayarr.errors import LibraryStoreError
from relayarr.jobqueue import Complete, Job, JobSpec, JSONValue, Retry
from relayarr.library.db.metastore import episode_ref, movie_ref, series_ref
from relayarr.library.db.records import ItemKind, ItemSummary
from relayarr.library.episodes import episode_numbers
from relayarr.metadata import (
    EpisodeMetadata,
    MovieMetadata,
    PublishRequest,
    PublishResult,
    SeriesMetadata,
)
from relayarr.pipeline.context import Metadata, PipelineContext
from relayarr.pipeline.enrich import ITEM_GONE, NOT_CONFIGURED, item_summary, notify_follow_ups
from relayarr.pipeline.metajob import EpisodeTarget, MetadataJob
from relayarr.pipeline.notify import change, notify_specs
from relayarr.pipeline.offline import episode_metadata, movie_metadata, series_metadata
from relayarr.players.change import Action

log = logging.getLogger(__name__)

Published = dict[str, PublishResult]
"""What one publish wrote, by what it published (``movie``, ``series``, ``S02E03``)."""

_CHANGES = frozenset({"written", "restored", "moved", "removed"})


async def handle_publish(ctx: PipelineContext, job: Job) -> Complete:
    """Publish the item of the payload and pass the chain on to the players."""
    request = MetadataJob.from_payload(job.payload)
    meta, library = ctx.metadata, ctx.library
    if meta is None or library is None:
        return Complete({"note": NOT_CONFIGURED}, notify_follow_ups(request))
    try:
        item = await item_summary(library, request)
        if item is None:
            return Complete({"note": ITEM_GONE}, notify_follow_ups(request))
        await library.store.link_job(request.kind, request.item_id, job.id, job.type)
        published = await publish_item(meta, request, item)
    except LibraryStoreError as exc:
        if job.attempts < job.max_attempts:
            raise Retry(reason=str(exc)) from exc
        return Complete({"error": str(exc)}, notify_follow_ups(request))
    errors: list[JSONValue] = [str(e) for r in published.values() for e in r.errors]
    result: dict[str, JSONValue] = {
        "published": {name: r.summary() for name, r in published.items()},
        "errors": errors,
    }
    if errors:
        log.warning(
            "published with errors",
            extra={"service": "metadata", "item_id": request.item_id, "errors": len(errors)},
        )
    return Complete(result, notify_follow_ups(request) + _refresh(request, published))


async def publish_item(meta: Metadata, request: MetadataJob, item: ItemSummary) -> Published:
    """Publish a movie, or a series and the payload's episodes; record what was written."""
    folder = Path(request.folder)
    replaced = tuple(Path(p) for p in request.replaced)
    publisher, store = meta.publisher, meta.store
    if request.kind is ItemKind.MOVIE:
        ref = movie_ref(request.item_id)
        movie = await publisher.publish(
            PublishRequest(
                item=ref,
                kind=MovieMetadata,
                folder=folder,
                video=folder / request.video if request.video else None,
                provider=await store.get_provided(ref, MovieMetadata),
                webhook=movie_metadata(request.event, item),
                replaced=replaced,
            )
        )
        if movie.metadata is not None:
            await store.set_published(ref, movie.metadata)
        return {"movie": movie}
    ref = series_ref(request.item_id)
    series = await publisher.publish(
        PublishRequest(
            item=ref,
            kind=SeriesMetadata,
            folder=folder,
            provider=await store.get_provided(ref, SeriesMetadata),
            webhook=series_metadata(request.event, item),
        )
    )
    published: Published = {"series": series}
    if series.metadata is not None:
        await store.set_published(ref, series.metadata)
    show_title = getattr(series.metadata, "title", "") or item.title
    for target in request.episodes:
        eref = episode_ref(request.item_id, target.season, target.episode)
        episode = await publisher.publish(
            PublishRequest(
                item=eref,
                kind=EpisodeMetadata,
                folder=folder,
                video=folder / target.video,
                provider=await store.get_provided(eref, EpisodeMetadata),
                webhook=episode_metadata(request.event, show_title, target.season, target.episode),
                replaced=tuple(p for p in replaced if _same_episode(p, target)),
            )
        )
        published[f"S{target.season:02d}E{target.episode:02d}"] = episode
        if episode.metadata is not None:
            await store.set_published(eref, episode.metadata)
    return published


def _same_episode(path: Path, target: EpisodeTarget) -> bool:
    """Whether a replaced video held (some of) the target's episodes: only its own old
    file's NFO and artwork may move to its new name."""
    numbers = episode_numbers(path.name)
    return (
        numbers is not None
        and numbers.season == target.season
        and bool(set(numbers.episodes) & set(target.episodes))
    )


def _refresh(request: MetadataJob, published: Published) -> list[JobSpec]:
    """A ``changed`` notification when the payload asks for one and files changed."""
    if not request.refresh:
        return []
    if not any(f.action in _CHANGES for r in published.values() for f in r.files):
        return []
    kind = MediaKind.MOVIE if request.kind is ItemKind.MOVIE else MediaKind.SERIES
    folder = Path(request.folder)
    video = folder / request.video if request.video else None
    return notify_specs([change(Action.CHANGED, kind, folder, video, request.event)])


__all__ = ["handle_publish", "publish_item"]
