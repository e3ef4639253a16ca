"""Metadata of a movie, a series and an episode, as frozen values.

Empty means unknown: ``""`` for text, ``None`` for numbers, ``()`` for lists. The merge
(:mod:`relayarr.metadata.merge`) treats every such value as "nothing to say", so a
provider that lacks a tagline never erases one the webhook or the NFO had.

``from_webhook`` builds each from the plain values a Radarr/Sonarr webhook carries: the
offline path, when no provider is configured or reachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

IdKind = Literal["tmdb", "imdb", "tvdb"]


@dataclass(frozen=True, slots=True)
class UniqueIds:
    """Provider ids; ``default`` is the one Kodi treats as the item's main id."""

    tmdb: int | None = None
    imdb: str | None = None
    tvdb: int | None = None
    default: IdKind = "tmdb"

    def merged(self, other: UniqueIds) -> UniqueIds:
        """These ids, with the ones missing here taken from ``other``."""
        return replace(
            self,
            tmdb=self.tmdb if self.tmdb is not None else other.tmdb,
            imdb=self.imdb or other.imdb,
            tvdb=self.tvdb if self.tvdb is not None else other.tvdb,
        )

    def is_empty(self) -> bool:
        return self.tmdb is None and not self.imdb and self.tvdb is None


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating: ``source`` is ``themoviedb``, ``imdb``, ``tvdb``..."""

    source: str
    value: float
    votes: int = 0
    max: int = 10
    default: bool = False


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: str = ""
    order: int | None = None
    thumb: str = ""


@dataclass(frozen=True, slots=True)
class Collection:
    """A movie's set (TMDB collection): Kodi groups its movies together."""

    name: str
    overview: str = ""
    tmdb_id: int | None = None


@dataclass(frozen=True, slots=True)
class Artwork:
    """One candidate image: its type (``poster``...), where it is, and how good it is.

    ``language`` is an ISO 639-1 code or None for a textless image; ``score`` is the
    provider's own (TMDB vote average, fanart.tv likes) and only compares within a source.
    """

    kind: str
    url: str
    language: str | None = None
    width: int = 0
    height: int = 0
    score: float = 0.0
    source: str = ""
    preview: str = ""


@dataclass(frozen=True, slots=True)
class MovieMetadata:
    title: str = ""
    original_title: str = ""
    sort_title: str = ""
    year: int | None = None
    premiered: str = ""  # yyyy-mm-dd
    plot: str = ""
    outline: str = ""
    tagline: str = ""
    runtime: int | None = None  # minutes
    mpaa: str = ""
    genres: tuple[str, ...] = ()
    studios: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    ratings: tuple[Rating, ...] = ()
    ids: UniqueIds = field(default_factory=UniqueIds)
    directors: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    actors: tuple[Actor, ...] = ()
    collection: Collection | None = None
    artwork: tuple[Artwork, ...] = ()

    @classmethod
    def from_webhook(
        cls,
        *,
        title: str | None = None,
        year: int | None = None,
        overview: str | None = None,
        genres: Sequence[str] = (),
        tmdb_id: int | None = None,
        imdb_id: str | None = None,
        images: Iterable[Mapping[str, object]] = (),
        tags: Sequence[str] = (),
    ) -> MovieMetadata:
        """From Radarr's ``movie`` object: ``movie.title``, ``movie.images``...

        Radarr's ``releaseDate`` is the physical release, not the premiere, so it is not
        taken: ``premiered`` stays for a provider (or the NFO) to fill.
        """
        return cls(
            title=_text(title),
            year=year if year and year > 0 else None,
            plot=_text(overview),
            genres=_texts(genres),
            tags=_texts(tags),
            ids=UniqueIds(tmdb=tmdb_id or None, imdb=imdb_id or None),
            artwork=webhook_artwork(images),
        )


@dataclass(frozen=True, slots=True)
class SeriesMetadata:
    title: str = ""
    original_title: str = ""
    sort_title: str = ""
    year: int | None = None
    premiered: str = ""  # first air date
    plot: str = ""
    outline: str = ""
    tagline: str = ""
    runtime: int | None = None
    mpaa: str = ""
    status: str = ""
    genres: tuple[str, ...] = ()
    studios: tuple[str, ...] = ()  # networks, then production companies
    countries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    ratings: tuple[Rating, ...] = ()
    ids: UniqueIds = field(default_factory=lambda: UniqueIds(default="tvdb"))
    directors: tuple[str, ...] = ()  # unused by Kodi for shows; kept for symmetry
    writers: tuple[str, ...] = ()  # creators
    actors: tuple[Actor, ...] = ()
    artwork: tuple[Artwork, ...] = ()

    @classmethod
    def from_webhook(
        cls,
        *,
        title: str | None = None,
        year: int | None = None,
        overview: str | None = None,
        genres: Sequence[str] = (),
        tvdb_id: int | None = None,
        tmdb_id: int | None = None,
        imdb_id: str | None = None,
        images: Iterable[Mapping[str, object]] = (),
        tags: Sequence[str] = (),
    ) -> SeriesMetadata:
        """From Sonarr's ``series`` object (which carries no overview today)."""
        return cls(
            title=_text(title),
            year=year if year and year > 0 else None,
            plot=_text(overview),
            genres=_texts(genres),
            tags=_texts(tags),
            ids=UniqueIds(
                tmdb=tmdb_id or None, imdb=imdb_id or None, tvdb=tvdb_id or None, default="tvdb"
            ),
            artwork=webhook_artwork(images),
        )


@dataclass(frozen=True, slots=True)
class EpisodeMetadata:
    title: str = ""
    show_title: str = ""
    season: int | None = None
    episode: int | None = None
    year: int | None = None
    premiered: str = ""  # air date; <aired> in the NFO
    plot: str = ""
    runtime: int | None = None
    mpaa: str = ""
    ratings: tuple[Rating, ...] = ()
    ids: UniqueIds = field(default_factory=lambda: UniqueIds(default="tvdb"))
    directors: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    actors: tuple[Actor, ...] = ()  # guest stars
    artwork: tuple[Artwork, ...] = ()

    @classmethod
    def from_webhook(
        cls,
        *,
        title: str | None = None,
        show_title: str | None = None,
        season: int | None = None,
        episode: int | None = None,
        overview: str | None = None,
        air_date: str | None = None,
        tvdb_id: int | None = None,
    ) -> EpisodeMetadata:
        """From one of Sonarr's ``episodes[]`` (and the series title)."""
        aired = _text(air_date)[:10]
        return cls(
            title=_text(title),
            show_title=_text(show_title),
            season=season,
            episode=episode,
            premiered=aired,
            year=int(aired[:4]) if aired[:4].isdigit() else None,
            plot=_text(overview),
            ids=UniqueIds(tvdb=tvdb_id or None, default="tvdb"),
        )


AnyMetadata = MovieMetadata | SeriesMetadata | EpisodeMetadata
"""Any of the three kinds: the merge and the NFO writer take each."""

# *arr cover types that are artwork Kodi shows; screenshots and headshots are not.
_WEBHOOK_KINDS = {
    "poster": "poster",
    "fanart": "fanart",
    "banner": "banner",
    "clearlogo": "clearlogo",
}


def webhook_artwork(images: Iterable[Mapping[str, object]]) -> tuple[Artwork, ...]:
    """Artwork candidates from ``images[{coverType, remoteUrl}]``; local-only URLs skipped."""
    found = []
    for image in images:
        kind = _WEBHOOK_KINDS.get(str(image.get("coverType", "")).lower())
        url = image.get("remoteUrl")
        if kind and isinstance(url, str) and url.startswith(("http://", "https://")):
            found.append(Artwork(kind=kind, url=url, source="webhook"))
    return tuple(found)


def _text(value: str | None) -> str:
    return value.strip() if isinstance(value, str) else ""


def _texts(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


__all__ = [
    "Actor",
    "AnyMetadata",
    "Artwork",
    "Collection",
    "EpisodeMetadata",
    "IdKind",
    "MovieMetadata",
    "Rating",
    "SeriesMetadata",
    "UniqueIds",
    "webhook_artwork",
]
