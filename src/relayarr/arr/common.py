"""What Radarr and Sonarr payloads share: the model base, common objects, the base event.

The *arr apps serialise with Newtonsoft (``NullValueHandling.Ignore``), so a null field is
simply absent; and fields come and go between versions. Every model here therefore ignores
unknown fields and gives almost every field a default, and :func:`~relayarr.arr.parse_webhook`
reads an explicit null as absent (it drops null members before validating);
the few a pipeline cannot do without are checked by each event's
:meth:`ArrPayload.problems` instead of making whole objects mandatory.

Dates stay strings exactly as sent: nothing computes with them yet, and a date the parser
disagrees with (Radarr writes 7 fraction digits) must never refuse a webhook.

Enumerations that the apps extend over time (``coverType``, ``deleteReason``, health
``level``, ``addMethod``, series ``type``, ``releaseType``) are plain strings for the same
reason; their known values are listed on the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

from relayarr.errors import FieldError
from relayarr.jobqueue import JSONValue


class ArrModel(BaseModel):
    """Base of every payload model: camelCase on the wire, snake_case in Python, frozen,
    unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,  # pydantic's successor of populate_by_name
        validate_by_alias=True,
        extra="ignore",
        frozen=True,
    )


def _quality_name(value: object) -> object:
    """Sonarr v3 sent ``episodeFile.quality`` as ``{"quality": {"name": ...}, ...}`` in
    EpisodeFileDelete; current versions send the name. Accept both as the name."""
    if isinstance(value, dict):
        inner = value.get("quality")
        if isinstance(inner, dict):
            return inner.get("name")
        return None
    return value


QualityName = Annotated[str | None, BeforeValidator(_quality_name)]
"""A quality name such as ``Bluray-1080p`` (or the name inside a v3 quality object)."""


class Language(ArrModel):
    """``{"id": 1, "name": "English"}``."""

    id: int = 0
    name: str | None = None


class Image(ArrModel):
    """Artwork of a movie or series; ``cover_type``: unknown, poster, banner, fanart,
    screenshot, headshot, clearlogo."""

    cover_type: str | None = None
    url: str | None = None
    remote_url: str | None = None


class CustomFormat(ArrModel):
    id: int = 0
    name: str | None = None


class CustomFormatInfo(ArrModel):
    custom_formats: tuple[CustomFormat, ...] = ()
    custom_format_score: int = 0


class MediaInfo(ArrModel):
    """Technical details of an imported file (``audioChannels`` is a decimal like 5.1)."""

    audio_channels: float | None = None
    audio_codec: str | None = None
    audio_languages: tuple[str, ...] = ()
    height: int | None = None
    width: int | None = None
    subtitles: tuple[str, ...] = ()
    video_codec: str | None = None
    video_dynamic_range: str | None = None
    video_dynamic_range_type: str | None = None


class MediaFile(ArrModel):
    """A movie file (Radarr ``movieFile``) or an episode file (Sonarr ``episodeFile``).

    ``path`` is the folder plus ``relative_path``; ``source_path`` is where it was imported
    from (Download only); ``recycle_bin_path`` is set on an upgrade's ``deletedFiles``.
    """

    id: int = 0
    relative_path: str | None = None
    path: str | None = None
    quality: QualityName = None
    quality_version: int | None = None
    release_group: str | None = None
    scene_name: str | None = None
    size: int | None = None
    date_added: str | None = None
    languages: tuple[Language, ...] = ()
    media_info: MediaInfo | None = None
    source_path: str | None = None
    recycle_bin_path: str | None = None


class RenamedFile(MediaFile):
    """A file of a Rename event: where it is now, and where it was."""

    previous_relative_path: str | None = None
    previous_path: str | None = None


class DownloadStatusMessage(ArrModel):
    title: str | None = None
    messages: tuple[str, ...] = ()


class DownloadInfo(ArrModel):
    """``downloadInfo`` of ManualInteractionRequired: the stuck download."""

    quality: QualityName = None
    quality_version: int | None = None
    title: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class MediaIds:
    """External ids of the movie or series; None when unknown (the apps send 0 or omit)."""

    tmdb: int | None = None
    imdb: str | None = None
    tvdb: int | None = None
    tvmaze: int | None = None

    def as_json(self) -> dict[str, JSONValue]:
        """The known ids only, e.g. ``{"tmdb": 329865, "imdb": "tt2543164"}``."""
        pairs: dict[str, JSONValue] = {
            "tmdb": self.tmdb,
            "imdb": self.imdb,
            "tvdb": self.tvdb,
            "tvmaze": self.tvmaze,
        }
        return {key: value for key, value in pairs.items() if value is not None}


def known_id(value: int | None) -> int | None:
    """An integer id, with the apps' 0 for "none" turned into None."""
    return value if value else None


def known_text(value: str | None) -> str | None:
    """A string, with empty or blank turned into None."""
    return value if value and value.strip() else None


@dataclass(frozen=True, slots=True)
class MediaPaths:
    """Library paths an event is about, as the *arr sees them (before any path mapping).

    ``folders``: the movie folder or series root (and an import's destination folder);
    ``files``: files present after the event (imported, renamed to);
    ``removed``: files gone after it (deleted, replaced by an upgrade, renamed from).
    Download sources (``sourcePath``) are not library paths and are not listed.
    """

    folders: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        folders: Iterable[str | None] = (),
        files: Iterable[str | None] = (),
        removed: Iterable[str | None] = (),
    ) -> MediaPaths:
        """Build from possibly missing paths: blanks dropped, duplicates dropped in order."""
        return cls(_unique(folders), _unique(files), _unique(removed))

    def all(self) -> list[str]:
        """Every path once: folders, then files, then removed files."""
        return list(_unique((*self.folders, *self.files, *self.removed)))


def _unique(paths: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for p in paths if p and p.strip()))


class ArrPayload(ArrModel):
    """Fields every event carries, and the normalised view each event type refines.

    ``instance_name`` defaults to "Radarr"/"Sonarr" on the app side; ``application_url``
    is ``""`` when unset there and absent from Radarr's HealthRestored.
    """

    event_type: str
    instance_name: str | None = None
    application_url: str | None = None

    def title(self) -> str | None:
        """The movie or series title, if the event is about one."""
        return None

    def year(self) -> int | None:
        """The movie or series year, if known (0 counts as unknown)."""
        return None

    def ids(self) -> MediaIds:
        """External ids of the movie or series the event is about."""
        return MediaIds()

    def paths(self) -> MediaPaths:
        """Library folders and files the event touches."""
        return MediaPaths()

    def problems(self) -> list[FieldError]:
        """What this event lacks that relayarr needs to act on it (empty when usable).

        Checked after validation because the need is often "one of two fields", which a
        required field cannot express.
        """
        return []

    def details(self) -> dict[str, JSONValue]:
        """Event-specific entries for a summary (episodes, upgrade, reason, message...)."""
        return {}


class UnknownEvent(ArrPayload):
    """An event type relayarr does not know for this source: recorded, never refused."""


class HealthEvent(ArrPayload):
    """Health and HealthRestored: ``level`` is ok, notice, warning or error; ``type`` names
    the health check."""

    level: str | None = None
    message: str | None = None
    type: str | None = None
    wiki_url: str | None = None

    def details(self) -> dict[str, JSONValue]:
        return {"level": self.level, "message": self.message, "check": self.type}


class ApplicationUpdateEvent(ArrPayload):
    """The app updated itself from ``previous_version`` to ``new_version``."""

    message: str | None = None
    previous_version: str | None = None
    new_version: str | None = None

    def details(self) -> dict[str, JSONValue]:
        return {
            "message": self.message,
            "previous_version": self.previous_version,
            "new_version": self.new_version,
        }


def required(loc: str, also: str | None = None) -> FieldError:
    """The error for a missing needed field; ``also`` names an alternative that would do."""
    msg = "Field required" if also is None else f"Field required (or {also})"
    return FieldError(loc=loc, msg=msg)


__all__ = [
    "ApplicationUpdateEvent",
    "ArrModel",
    "ArrPayload",
    "CustomFormat",
    "CustomFormatInfo",
    "DownloadInfo",
    "DownloadStatusMessage",
    "HealthEvent",
    "Image",
    "Language",
    "MediaFile",
    "MediaIds",
    "MediaInfo",
    "MediaPaths",
    "QualityName",
    "RenamedFile",
    "UnknownEvent",
    "known_id",
    "known_text",
    "required",
]
