"""What a scan found: frozen values, each with ``to_json()`` for job results and the API.

Paths inside a result are relative to the scanned item folder and use ``/``; the folder
itself is absolute.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from relayarr.library.jsontypes import JSONObject, JSONValue
from relayarr.library.naming import ArtworkScope
from relayarr.library.nfo import Nfo


def to_json(value: object) -> JSONValue:
    """A result value as JSON: dataclasses become objects, tuples lists, enums their value,
    datetimes ISO 8601 text."""
    if isinstance(value, Enum):
        return to_json(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_json(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    raise TypeError(f"cannot turn {type(value).__name__} into JSON")


class _Json:
    __slots__ = ()

    def to_json(self) -> JSONObject:
        """This value as a JSON object."""
        document = to_json(self)
        assert isinstance(document, dict)
        return document


@dataclass(frozen=True, slots=True)
class MediaFile(_Json):
    """A file found: its path relative to the item folder, size and modification time."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class ScanIssue(_Json):
    """A file or folder that could not be read, or is not what its name says; the rest of
    the scan is still good."""

    path: str
    problem: str


@dataclass(frozen=True, slots=True)
class NfoFile(_Json):
    """An NFO file, and what it holds (``None`` with ``error`` when it cannot be read)."""

    file: MediaFile
    info: Nfo | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Artwork(_Json):
    """An image in a Kodi name: its type, whom it belongs to (for ``video`` scope, the
    video's relative path; for ``season`` scope, the season) and its number."""

    file: MediaFile
    kind: str
    scope: ArtworkScope
    video: str | None = None
    season: int | None = None
    index: int | None = None


@dataclass(frozen=True, slots=True)
class Subtitle(_Json):
    """A subtitle file: the video it belongs to, its language (``None`` if unnamed) and
    flags (``forced``, ``sdh``, ``default``, ``commentary``)."""

    file: MediaFile
    video: str | None
    language: str | None
    flags: tuple[str, ...]
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Extra(_Json):
    """A bonus video: ``trailer``, ``featurette``, ``behindthescenes``, ``deleted``, ..."""

    file: MediaFile
    kind: str


@dataclass(frozen=True, slots=True)
class MovieScan(_Json):
    """A movie folder: the main video and everything around it.

    ``video`` is the hinted file when it was found, else the largest top-level video that
    is not a sample, trailer or extra; ``hint_missing`` says a hint named a file that is not
    there. ``signature`` fingerprints every entry (see :mod:`relayarr.library.walk`).
    """

    folder: str
    video: MediaFile | None
    other_videos: tuple[MediaFile, ...]
    nfo: NfoFile | None
    other_nfos: tuple[MediaFile, ...]
    artwork: tuple[Artwork, ...]
    subtitles: tuple[Subtitle, ...]
    trailers: tuple[MediaFile, ...]
    extras: tuple[Extra, ...]
    samples: tuple[MediaFile, ...]
    other_files: tuple[MediaFile, ...]
    issues: tuple[ScanIssue, ...]
    signature: str
    hint_missing: bool = False


@dataclass(frozen=True, slots=True)
class EpisodeFile(_Json):
    """An episode video: its season and episodes (several for a multi-episode file), its
    NFO, its own artwork (``-thumb``) and subtitles."""

    file: MediaFile
    season: int
    episodes: tuple[int, ...]
    nfo: NfoFile | None
    artwork: tuple[Artwork, ...]
    subtitles: tuple[Subtitle, ...]


@dataclass(frozen=True, slots=True)
class SeasonScan(_Json):
    """A season: its number (0 for specials), its folder if it has one, its artwork (from
    ``season01-poster.jpg`` in the series folder or images inside the season folder)."""

    number: int
    folder: str | None
    artwork: tuple[Artwork, ...]


@dataclass(frozen=True, slots=True)
class SeriesScan(_Json):
    """A series folder: the show's NFO and artwork, its seasons and numbered episodes.

    ``unnumbered`` holds videos with no season/episode in their name (neither ``S01E02``
    nor ``1x02``, nor ``E02`` inside a season folder).
    """

    folder: str
    nfo: NfoFile | None
    artwork: tuple[Artwork, ...]
    seasons: tuple[SeasonScan, ...]
    episodes: tuple[EpisodeFile, ...]
    unnumbered: tuple[MediaFile, ...]
    trailers: tuple[MediaFile, ...]
    extras: tuple[Extra, ...]
    samples: tuple[MediaFile, ...]
    other_files: tuple[MediaFile, ...]
    issues: tuple[ScanIssue, ...]
    signature: str


__all__ = [
    "Artwork",
    "EpisodeFile",
    "Extra",
    "MediaFile",
    "MovieScan",
    "NfoFile",
    "ScanIssue",
    "SeasonScan",
    "SeriesScan",
    "Subtitle",
    "to_json",
]
