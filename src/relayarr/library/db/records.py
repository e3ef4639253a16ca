"""What the library store takes and returns: frozen values, never database rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from relayarr.library.jsontypes import JSONObject, JSONValue
from relayarr.library.results import to_json

T = TypeVar("T")


class ItemKind(StrEnum):
    MOVIE = "movie"
    SERIES = "series"


class ScanStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class EventInfo:
    """What the event that led to a scan knows about the item: the *arr's title, year and
    ids. They win over the NFO's (the *arr is the source of truth for ids); the NFO's fill
    what the event does not say, and the folder name what neither does."""

    title: str | None = None
    year: int | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    tvdb_id: int | None = None


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """What recording a scan did: the item's id, whether it is new, and which files
    (absolute paths) were added, removed or changed (size or modification time)."""

    kind: ItemKind
    item_id: int
    created: bool
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    @property
    def unchanged(self) -> bool:
        return not (self.created or self.added or self.removed or self.changed)

    def to_json(self) -> JSONObject:
        document = to_json(self)
        assert isinstance(document, dict)
        return document


@dataclass(frozen=True, slots=True)
class ItemRef:
    """An item by kind, id and folder."""

    kind: ItemKind
    id: int
    folder: str


@dataclass(frozen=True, slots=True)
class FileChange:
    """Which stored paths a removal or rename touched, and the items they belong to."""

    paths: tuple[str, ...]
    items: tuple[ItemRef, ...]


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A stored file: videos, subtitles, extras and the rest (``role`` says which)."""

    id: int
    path: str
    role: str
    size: int
    mtime_ns: int
    details: JSONObject | None


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """A stored artwork or NFO file."""

    id: int
    path: str
    kind: str
    scope: str
    season: int | None
    video_path: str | None
    position: int | None
    size: int
    mtime_ns: int
    details: JSONObject | None


@dataclass(frozen=True, slots=True)
class JobLinkRecord:
    """A job that touched an item."""

    job_id: int
    job_type: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """A movie or series as a list shows it."""

    kind: ItemKind
    id: int
    root: str
    folder: str
    title: str
    original_title: str | None
    year: int | None
    tmdb_id: int | None
    imdb_id: str | None
    tvdb_id: int | None
    created_at: datetime
    scanned_at: datetime


@dataclass(frozen=True, slots=True)
class EpisodeRecord:
    season: int
    episode: int
    title: str | None
    file_path: str


@dataclass(frozen=True, slots=True)
class SeasonRecord:
    number: int
    folder: str | None
    episodes: tuple[EpisodeRecord, ...]


@dataclass(frozen=True, slots=True)
class ItemDetail:
    """One movie or series with its files, assets, the jobs that touched it, the issues of
    its last scan and (for a series) its seasons and episodes."""

    item: ItemSummary
    files: tuple[FileRecord, ...]
    assets: tuple[AssetRecord, ...]
    jobs: tuple[JobLinkRecord, ...]
    issues: tuple[JSONValue, ...]
    seasons: tuple[SeasonRecord, ...] = ()

    def to_json(self) -> JSONObject:
        document = to_json(self)
        assert isinstance(document, dict)
        return document


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing and the cursor of the next (``None`` on the last page)."""

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ScanRunRecord:
    id: int
    kind: str
    root: str | None
    folder: str | None
    job_id: int | None
    status: ScanStatus
    started_at: datetime
    finished_at: datetime | None
    summary: JSONObject | None
    error: str | None


__all__ = [
    "AssetRecord",
    "EpisodeRecord",
    "EventInfo",
    "FileChange",
    "FileRecord",
    "ItemDetail",
    "ItemKind",
    "ItemRef",
    "ItemSummary",
    "JobLinkRecord",
    "Page",
    "ScanRecord",
    "ScanRunRecord",
    "ScanStatus",
    "SeasonRecord",
]
