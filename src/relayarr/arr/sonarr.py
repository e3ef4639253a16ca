"""Sonarr's webhook events, one model per ``eventType`` and two for ``Download``.

``Download`` comes in two shapes under the same ``eventType``: On File Import/Upgrade sends
one ``episodeFile`` per imported file (:class:`SonarrDownload`), and On Import Complete sends
the whole batch of a download as ``episodeFiles[]`` with ``sourcePath``/``destinationPath``
(:class:`SonarrImportComplete`). The presence of ``episodeFiles`` picks the second.

What is required, and why (as for Radarr): the events that change the library need a path
to act on, so they require ``series`` and either ``series.path`` or a file path; everything
else is optional, because a refusal makes Sonarr disable the connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from relayarr.arr.common import (
    ApplicationUpdateEvent,
    ArrModel,
    ArrPayload,
    CustomFormatInfo,
    DownloadInfo,
    DownloadStatusMessage,
    HealthEvent,
    Image,
    Language,
    MediaFile,
    MediaIds,
    MediaPaths,
    QualityName,
    RenamedFile,
    known_id,
    known_text,
    required,
)
from relayarr.errors import FieldError
from relayarr.jobqueue import JSONValue


class Series(ArrModel):
    """``series``: ``type`` is standard, daily or anime; ``tags`` are labels."""

    id: int = 0
    title: str | None = None
    title_slug: str | None = None
    path: str | None = None
    tvdb_id: int | None = None
    tv_maze_id: int | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    mal_ids: tuple[int, ...] = ()
    ani_list_ids: tuple[int, ...] = ()
    type: str | None = None
    year: int | None = None
    genres: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    tags: tuple[str, ...] = ()
    original_language: Language | None = None
    original_country: str | None = None


class Episode(ArrModel):
    """One of ``episodes[]``: ``air_date`` is ``yyyy-MM-dd``, ``air_date_utc`` ISO-8601."""

    id: int = 0
    episode_number: int = 0
    season_number: int = 0
    title: str | None = None
    overview: str | None = None
    air_date: str | None = None
    air_date_utc: str | None = None
    series_id: int | None = None
    tvdb_id: int | None = None
    finale_type: str | None = None

    def label(self) -> str:
        """``S02E03``."""
        return f"S{self.season_number:02d}E{self.episode_number:02d}"


class Release(ArrModel):
    """``release``: the full release on Grab; the grabbed one (title, indexer, size, flags,
    ``release_type``: unknown, singleEpisode, multiEpisode, seasonPack) on Download."""

    quality: QualityName = None
    quality_version: int | None = None
    release_group: str | None = None
    release_title: str | None = None
    indexer: str | None = None
    size: int | None = None
    custom_format_score: int | None = None
    custom_formats: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    indexer_flags: tuple[str, ...] = ()
    release_type: str | None = None


class SonarrEvent(ArrPayload):
    """An event about one series (and some of its episodes)."""

    series: Series | None = None
    episodes: tuple[Episode, ...] = ()

    def title(self) -> str | None:
        return known_text(self.series.title) if self.series else None

    def year(self) -> int | None:
        return known_id(self.series.year) if self.series else None

    def ids(self) -> MediaIds:
        series = self.series
        if series is None:
            return MediaIds()
        return MediaIds(
            tmdb=known_id(series.tmdb_id),
            imdb=known_text(series.imdb_id),
            tvdb=known_id(series.tvdb_id),
            tvmaze=known_id(series.tv_maze_id),
        )

    def paths(self) -> MediaPaths:
        return MediaPaths.of(folders=[self.series.path if self.series else None])

    def details(self) -> dict[str, JSONValue]:
        if not self.episodes:
            return {}
        return {"episodes": [episode.label() for episode in self.episodes]}


class _NeedsSeriesPath(SonarrEvent):
    """An event relayarr acts on: a series with a path, or a file path, is needed."""

    file_field: ClassVar[str | None] = None  # the wire name of the alternative to the path
    series: Series

    def _file_paths(self) -> list[str | None]:
        return []

    def problems(self) -> list[FieldError]:
        if self.series.path or any(self._file_paths()):
            return []
        return [required("series.path", self.file_field)]


class SonarrTest(SonarrEvent):
    """``Test``: a fixed sample series (``C:\\testpath``) and episode S01E01."""


class SonarrGrab(SonarrEvent):
    release: Release | None = None
    download_client: str | None = None
    download_client_type: str | None = None
    download_id: str | None = None
    custom_format_info: CustomFormatInfo | None = None


class SonarrDownload(_NeedsSeriesPath):
    """``Download`` per file (On File Import / Upgrade): one ``episode_file``;
    ``deleted_files`` are the files an upgrade replaced (only sent then)."""

    file_field: ClassVar[str | None] = "episodeFile.path"
    episode_file: MediaFile | None = None
    is_upgrade: bool = False
    download_client: str | None = None
    download_client_type: str | None = None
    download_id: str | None = None
    deleted_files: tuple[MediaFile, ...] = ()
    custom_format_info: CustomFormatInfo | None = None
    release: Release | None = None

    def _file_paths(self) -> list[str | None]:
        return [self.episode_file.path if self.episode_file else None]

    def paths(self) -> MediaPaths:
        return MediaPaths.of(
            folders=[self.series.path],
            files=self._file_paths(),
            removed=[f.path for f in self.deleted_files],
        )

    def details(self) -> dict[str, JSONValue]:
        return {
            **super().details(),
            "import_complete": False,
            "upgrade": self.is_upgrade,
            "download_id": self.download_id,
        }


class SonarrImportComplete(_NeedsSeriesPath):
    """``Download`` On Import Complete: every file of one download in ``episode_files``;
    ``destination_path`` is the library folder they went to."""

    file_field: ClassVar[str | None] = "destinationPath"
    episode_files: tuple[MediaFile, ...]
    download_client: str | None = None
    download_client_type: str | None = None
    download_id: str | None = None
    release: Release | None = None
    file_count: int | None = None
    source_path: str | None = None
    destination_path: str | None = None

    def _file_paths(self) -> list[str | None]:
        return [self.destination_path, *(f.path for f in self.episode_files)]

    def paths(self) -> MediaPaths:
        return MediaPaths.of(
            folders=[self.series.path, self.destination_path],
            files=[f.path for f in self.episode_files],
        )

    def details(self) -> dict[str, JSONValue]:
        return {
            **super().details(),
            "import_complete": True,
            "files": len(self.episode_files),
            "download_id": self.download_id,
        }


class SonarrRename(_NeedsSeriesPath):
    file_field: ClassVar[str | None] = "renamedEpisodeFiles.path"
    renamed_episode_files: tuple[RenamedFile, ...] = ()

    def _file_paths(self) -> list[str | None]:
        return [f.path for f in self.renamed_episode_files]

    def paths(self) -> MediaPaths:
        return MediaPaths.of(
            folders=[self.series.path],
            files=self._file_paths(),
            removed=[f.previous_path for f in self.renamed_episode_files],
        )


class SonarrSeriesAdd(SonarrEvent):
    pass


class SonarrSeriesDelete(_NeedsSeriesPath):
    """``SeriesDelete``: ``deleted_files`` says whether the series' files went too."""

    deleted_files: bool = False

    def details(self) -> dict[str, JSONValue]:
        return {"deleted_files": self.deleted_files}


class SonarrEpisodeFileDelete(_NeedsSeriesPath):
    """``EpisodeFileDelete``: ``delete_reason`` is missingFromDisk, manual, upgrade (a
    Download with ``isUpgrade`` follows), noLinkedEpisodes or manualOverride."""

    file_field: ClassVar[str | None] = "episodeFile.path"
    episode_file: MediaFile | None = None
    delete_reason: str | None = None

    def _file_paths(self) -> list[str | None]:
        return [self.episode_file.path if self.episode_file else None]

    def paths(self) -> MediaPaths:
        return MediaPaths.of(folders=[self.series.path], removed=self._file_paths())

    def details(self) -> dict[str, JSONValue]:
        return {**super().details(), "reason": self.delete_reason}


class SonarrManualInteractionRequired(SonarrEvent):
    """A download Sonarr could not import by itself."""

    download_info: DownloadInfo | None = None
    download_client: str | None = None
    download_client_type: str | None = None
    download_id: str | None = None
    download_status: str | None = None
    download_status_messages: tuple[DownloadStatusMessage, ...] = ()
    custom_format_info: CustomFormatInfo | None = None
    release: Release | None = None


class SonarrHealth(HealthEvent):
    pass


class SonarrApplicationUpdate(ApplicationUpdateEvent):
    pass


SONARR_EVENTS: dict[str, type[ArrPayload]] = {
    "Test": SonarrTest,
    "Grab": SonarrGrab,
    "Download": SonarrDownload,
    "Rename": SonarrRename,
    "SeriesAdd": SonarrSeriesAdd,
    "SeriesDelete": SonarrSeriesDelete,
    "EpisodeFileDelete": SonarrEpisodeFileDelete,
    "Health": SonarrHealth,
    "HealthRestored": SonarrHealth,
    "ApplicationUpdate": SonarrApplicationUpdate,
    "ManualInteractionRequired": SonarrManualInteractionRequired,
}
"""Sonarr's ``WebhookEventType`` values and the model each parses into; ``Download`` with
``episodeFiles`` goes to :class:`SonarrImportComplete` instead (see :func:`sonarr_model`)."""


def sonarr_model(event_type: str, body: Mapping[str, object]) -> type[ArrPayload] | None:
    """The model for a Sonarr body, or None for an event type Sonarr does not send."""
    if event_type == "Download" and body.get("episodeFiles") is not None:
        return SonarrImportComplete
    return SONARR_EVENTS.get(event_type)


SonarrPayload = (
    SonarrTest
    | SonarrGrab
    | SonarrDownload
    | SonarrImportComplete
    | SonarrRename
    | SonarrSeriesAdd
    | SonarrSeriesDelete
    | SonarrEpisodeFileDelete
    | SonarrHealth
    | SonarrApplicationUpdate
    | SonarrManualInteractionRequired
)

__all__ = [
    "SONARR_EVENTS",
    "Episode",
    "Release",
    "Series",
    "SonarrApplicationUpdate",
    "SonarrDownload",
    "SonarrEpisodeFileDelete",
    "SonarrEvent",
    "SonarrGrab",
    "SonarrHealth",
    "SonarrImportComplete",
    "SonarrManualInteractionRequired",
    "SonarrPayload",
    "SonarrRename",
    "SonarrSeriesAdd",
    "SonarrSeriesDelete",
    "SonarrTest",
    "sonarr_model",
]
