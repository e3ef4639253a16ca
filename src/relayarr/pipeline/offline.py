"""Metadata without a provider: what the webhook carried, or failing that what the library
database knows of the item (its NFO's or its folder name's title, year and ids).

The publisher takes these as its ``webhook`` source: below the providers, above the
existing NFO. With no provider configured (or reachable) they are what gets published.
"""

from __future__ import annotations

from relayarr.arr.media import MediaEvent
from relayarr.library.db.records import ItemSummary
from relayarr.metadata import EpisodeMetadata, MovieMetadata, SeriesMetadata, UniqueIds
from relayarr.metadata.models import IdKind


def _images(event: MediaEvent) -> list[dict[str, object]]:
    return [{"coverType": art.type, "remoteUrl": art.url} for art in event.artwork]


def movie_metadata(event: MediaEvent | None, item: ItemSummary | None) -> MovieMetadata | None:
    """A movie's values from its webhook, else from the library's record of it."""
    if event is not None and event.title:
        return MovieMetadata.from_webhook(
            title=event.title,
            year=event.year,
            overview=event.overview,
            genres=event.genres,
            tmdb_id=event.ids.tmdb,
            imdb_id=event.ids.imdb,
            images=_images(event),
        )
    if item is None:
        return None
    return MovieMetadata(
        title=item.title,
        year=item.year,
        ids=UniqueIds(tmdb=item.tmdb_id, imdb=item.imdb_id),
    )


def series_metadata(event: MediaEvent | None, item: ItemSummary | None) -> SeriesMetadata | None:
    """A series' values from its webhook, else from the library's record of it."""
    if event is not None and event.title:
        return SeriesMetadata.from_webhook(
            title=event.title,
            year=event.year,
            overview=event.overview,
            genres=event.genres,
            tvdb_id=event.ids.tvdb,
            tmdb_id=event.ids.tmdb,
            imdb_id=event.ids.imdb,
            images=_images(event),
        )
    if item is None:
        return None
    return SeriesMetadata(
        title=item.title,
        year=item.year,
        ids=UniqueIds(tmdb=item.tmdb_id, imdb=item.imdb_id, tvdb=item.tvdb_id, default="tvdb"),
    )


def episode_metadata(
    event: MediaEvent | None, show_title: str, season: int, episode: int
) -> EpisodeMetadata:
    """An episode's values from the webhook's ``episodes[]`` when it names this one; its
    numbers and show title at least."""
    for ref in event.episodes if event is not None else ():
        if (ref.season, ref.episode) == (season, episode):
            return EpisodeMetadata.from_webhook(
                title=ref.title,
                show_title=show_title,
                season=season,
                episode=episode,
                air_date=ref.air_date,
                tvdb_id=ref.tvdb,
            )
    return EpisodeMetadata(show_title=show_title, season=season, episode=episode)


def provider_ids(event: MediaEvent | None, item: ItemSummary | None, *, series: bool) -> UniqueIds:
    """The ids to ask the providers with: the *arr's first (it is the source of truth for
    ids), then the library's (from the NFO)."""
    default: IdKind = "tvdb" if series else "tmdb"
    ids = UniqueIds(default=default)
    if event is not None:
        ids = UniqueIds(event.ids.tmdb, event.ids.imdb, event.ids.tvdb, default=default)
    if item is not None:
        ids = ids.merged(UniqueIds(item.tmdb_id, item.imdb_id, item.tvdb_id))
    return ids


__all__ = ["episode_metadata", "movie_metadata", "provider_ids", "series_metadata"]
