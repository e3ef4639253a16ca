"""Radarr's webhook events, one model per ``eventType`` (Radarr ``Notifications/Webhook``).

What is required, and why: relayarr acts on the events that change the library, so those
need the path it will scan: Download (``movie.folderPath`` or ``movieFile.path``), Rename
and MovieFileDelete (the same), MovieDelete (``movie.folderPath``). Radarr always sends
``movie`` with those events, so it is required there. Every other field, and every field of
the informational events (Grab, MovieAdded, Health...), is optional: a refusal makes Radarr
disable the connection, so relayarr refuses only what it could not use.
"""

from __future__ import annotations

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


class Movie(ArrModel):
    """``movie``: ``release_date`` is ``yyyy-MM-dd`` (physical release); ``tags`` are labels."""

    id: int = 0
    title: str | None = None
    year: int | None = None
    release_date: str | None = None
    folder_path: str | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    overview: str | None = None
    genres: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    tags: tuple[str, ...] = ()
    original_language: Language | None = None


class RemoteMovie(ArrModel):
    """``remoteMovie``: what the release was matched to."""

    tmdb_id: int | None = None
    imdb_id: str | None = None
    title: str | None = None
    year: int | None = None


class MovieFile(MediaFile):
    """``movieFile``: ``indexer_flags`` is the flags' text, e.g. ``"0"`` or ``"G_Freeleech"``."""

    indexer_flags: str | None = None


class RenamedMovieFile(RenamedFile):
    indexer_flags: str | None = None


class Release(ArrModel):
    """``release``: on Grab the full release; on Download and ManualInteractionRequired the
    grabbed one (title, indexer, size, flags; only flags after a manual import)."""

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


class RadarrEvent(ArrPayload):
    """An event about one movie; ``movie`` is optional here and required where needed."""

    movie: Movie | None = None

    def title(self) -> str | None:
        return known_text(self.movie.title) if self.movie else None

    def year(self) -> int | None:
        return known_id(self.movie.year) if self.movie else None

    def ids(self) -> MediaIds:
        if self.movie is None:
            return MediaIds()
        return MediaIds(tmdb=known_id(self.movie.tmdb_id), imdb=known_text(self.movie.imdb_id))

    def paths(self) -> MediaPaths:
        return MediaPaths.of(folders=[self.movie.folder_path if self.movie else None])


class _NeedsMoviePath(RadarrEvent):
    """An event relayarr acts on: a movie with a folder, or a file path, is needed."""

    file_field: ClassVar[str | None] = None  # the wire name of the alternative to the folder
    movie: Movie

    def _file_paths(self) -> list[str | None]:
        return []

    def problems(self) -> list[FieldError]:
        if self.movie.folder_path or any(self._file_paths()):
            return []
        return [required("movie.folderPath", self.file_field)]


class RadarrTest(RadarrEvent):
    """``Test``: a fixed sample movie (``C:\\testpath``), no file."""

    remote_movie: RemoteMovie | None = None
    release: Release | None = None


class RadarrGrab(RadarrEvent):
    remote_movie: RemoteMovie | None = None
    release: Release | None = None
    download_client: str | None = None
    download_client_type: str | None = None
    download_id: str | None = None
    custom_format_info: CustomFormatInfo | None = None


class RadarrDownload(_NeedsMoviePath):
    """``Download`` (On File Import / On File Upgrade): ``deleted_files`` are the files an
    upgrade replaced (only sent then)."""

    file_field: ClassVar[str | None] = "movieFile.path"
    remote_movie: RemoteMovie | None = None
    movie_file: MovieFile | None = None
    is_upgrade: bool = False
    download_client: str | None = None
    download_client_type: str | None = None
    download_id: str | None = None
    deleted_files: tuple[MovieFile, ...] = ()
    custom_format_info: CustomFormatInfo | None = None
    release: Release | None = None

    def _file_paths(self) -> list[str | None]:
        return [self.movie_file.path if self.movie_file else None]

    def paths(self) -> MediaPaths:
        return MediaPaths.of(
            folders=[self.movie.folder_path],
            files=self._file_paths(),
            removed=[f.path for f in self.deleted_files],
        )

    def details(self) -> dict[str, JSONValue]:
        return {"upgrade": self.is_upgrade, "download_id": self.download_id}


class RadarrRename(_NeedsMoviePath):
    file_field: ClassVar[str | None] = "renamedMovieFiles.path"
    renamed_movie_files: tuple[RenamedMovieFile, ...] = ()

    def _file_paths(self) -> list[str | None]:
        return [f.path for f in self.renamed_movie_files]

    def paths(self) -> MediaPaths:
        return MediaPaths.of(
            folders=[self.movie.folder_path],
            files=self._file_paths(),
            removed=[f.previous_path for f in self.renamed_movie_files],
        )


class RadarrMovieAdded(RadarrEvent):
    """``MovieAdded``: ``add_method`` is manual, list or collection."""

    add_method: str | None = None


class RadarrMovieDelete(_NeedsMoviePath):
    """``MovieDelete``: ``deleted_files`` says whether the folder's files went too."""

    deleted_files: bool = False
    movie_folder_size: int | None = None

    def details(self) -> dict[str, JSONValue]:
        return {"deleted_files": self.deleted_files}


class RadarrMovieFileDelete(_NeedsMoviePath):
    """``MovieFileDelete``: ``delete_reason`` is missingFromDisk, manual, upgrade (a Download
    with ``isUpgrade`` follows), noLinkedEpisodes or manualOverride."""

    file_field: ClassVar[str | None] = "movieFile.path"
    movie_file: MovieFile | None = None
    delete_reason: str | None = None

    def _file_paths(self) -> list[str | None]:
        return [self.movie_file.path if self.movie_file else None]

    def paths(self) -> MediaPaths:
        return MediaPaths.of(folders=[self.movie.folder_path], removed=self._file_paths())

    def details(self) -> dict[str, JSONValue]:
        return {"reason": self.delete_reason}


class RadarrManualInteractionRequired(RadarrEvent):
    """A download Radarr could not import by itself."""

    download_info: DownloadInfo | None = None
    download_client: str | None = None
    download_client_type: str | None = None
    download_id: str | None = None
    download_status: str | None = None
    download_status_messages: tuple[DownloadStatusMessage, ...] = ()
    custom_format_info: CustomFormatInfo | None = None
    release: Release | None = None


class RadarrHealth(HealthEvent):
    pass


class RadarrApplicationUpdate(ApplicationUpdateEvent):
    pass


RADARR_EVENTS: dict[str, type[ArrPayload]] = {
    "Test": RadarrTest,
    "Grab": RadarrGrab,
    "Download": RadarrDownload,
    "Rename": RadarrRename,
    "MovieAdded": RadarrMovieAdded,
    "MovieDelete": RadarrMovieDelete,
    "MovieFileDelete": RadarrMovieFileDelete,
    "Health": RadarrHealth,
    "HealthRestored": RadarrHealth,
    "ApplicationUpdate": RadarrApplicationUpdate,
    "ManualInteractionRequired": RadarrManualInteractionRequired,
}
"""Radarr's ``WebhookEventType`` values and the model each one parses into."""

RadarrPayload = (
    RadarrTest
    | RadarrGrab
    | RadarrDownload
    | RadarrRename
    | RadarrMovieAdded
    | RadarrMovieDelete
    | RadarrMovieFileDelete
    | RadarrHealth
    | RadarrApplicationUpdate
    | RadarrManualInteractionRequired
)

__all__ = [
    "RADARR_EVENTS",
    "Movie",
    "MovieFile",
    "RadarrApplicationUpdate",
    "RadarrDownload",
    "RadarrEvent",
    "RadarrGrab",
    "RadarrHealth",
    "RadarrManualInteractionRequired",
    "RadarrMovieAdded",
    "RadarrMovieDelete",
    "RadarrMovieFileDelete",
    "RadarrPayload",
    "RadarrRename",
    "RadarrTest",
    "Release",
    "RemoteMovie",
    "RenamedMovieFile",
]
