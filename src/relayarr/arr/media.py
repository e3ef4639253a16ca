"""One normalised media event per webhook: :func:`media_event`, and what the pipeline does
with it (:class:`Action`).

Radarr and Sonarr describe the same things in different shapes (a movie file, an episode
file, a batch of episode files, renamed files with their previous paths, an upgrade's
deleted files). The pipeline should not care which app spoke, so every webhook becomes one
:class:`MediaEvent` with the paths exactly as the *arr sent them (path mapping comes later)
and one routing decision:

- ``scan``: ``Download`` (imports and upgrades, Sonarr's per-file and "On Import Complete"
  shapes) and ``Rename``: the folder changed on disk, scan it;
- ``remove``: ``MovieFileDelete``, ``EpisodeFileDelete``, ``MovieDelete``, ``SeriesDelete``:
  the players should forget what went;
- ``record``: everything else (``Test``, ``Grab``, ``MovieAdded``, ``SeriesAdd``, health,
  updates, manual interaction, unknown events): kept in the job's result, nothing else.

A file delete whose ``deleteReason`` is ``upgrade`` is recorded only: the ``Download`` with
``isUpgrade`` that follows it replaces the file, and telling a player to forget the movie
in between would make it drop the item (and its watched state) for nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from relayarr.arr.common import ArrPayload, Image, MediaFile, MediaIds, known_id, known_text
from relayarr.arr.events import ArrEvent, Source
from relayarr.arr.radarr import (
    RadarrDownload,
    RadarrEvent,
    RadarrMovieDelete,
    RadarrMovieFileDelete,
    RadarrRename,
)
from relayarr.arr.sonarr import (
    Episode,
    SonarrDownload,
    SonarrEpisodeFileDelete,
    SonarrEvent,
    SonarrImportComplete,
    SonarrRename,
    SonarrSeriesDelete,
)
from relayarr.jobqueue import JSONObject, JSONValue


class Action(StrEnum):
    """What the pipeline does with an event."""

    SCAN = "scan"
    REMOVE = "remove"
    RECORD = "record"


class MediaKind(StrEnum):
    """What an event is about: a movie (Radarr) or a series and its episodes (Sonarr)."""

    MOVIE = "movie"
    SERIES = "series"


@dataclass(frozen=True, slots=True)
class EpisodeRef:
    """An episode an event names: season and episode numbers, title, air date, tvdb id."""

    season: int
    episode: int
    title: str | None = None
    air_date: str | None = None
    tvdb: int | None = None

    def label(self) -> str:
        """``S02E03``."""
        return f"S{self.season:02d}E{self.episode:02d}"


@dataclass(frozen=True, slots=True)
class RenamedPath:
    """A file a Rename moved: where it was and where it is now (the *arr's paths)."""

    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ArtworkRef:
    """An image the *arr knows for the item: its type (poster, fanart...) and remote URL."""

    type: str
    url: str


@dataclass(frozen=True, slots=True)
class MediaEvent:
    """A webhook reduced to what the pipeline acts on; paths are the *arr's, unmapped.

    ``folder`` is the movie folder or the series folder; ``files`` are files present after
    the event (imported, renamed to); ``removed`` are files gone after it (deleted,
    replaced by an upgrade, renamed from). ``whole_item`` marks a MovieDelete or
    SeriesDelete (the item left the *arr, with or without its files: ``files_deleted``).
    ``title``, ``year``, ``overview``, ``genres`` and ``artwork`` are what the webhook
    carried, for metadata published without a provider.
    """

    source: Source
    instance: str | None
    event: str
    action: Action
    kind: MediaKind | None = None
    title: str | None = None
    year: int | None = None
    ids: MediaIds = field(default_factory=MediaIds)
    folder: str | None = None
    files: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[RenamedPath, ...] = ()
    episodes: tuple[EpisodeRef, ...] = ()
    upgrade: bool = False
    whole_item: bool = False
    files_deleted: bool = False
    reason: str | None = None
    download_id: str | None = None
    overview: str | None = None
    genres: tuple[str, ...] = ()
    artwork: tuple[ArtworkRef, ...] = ()

    @property
    def mapping_source(self) -> str:
        """The name path mappings are keyed by: ``radarr``, or ``radarr/4k`` when the
        webhook came to ``/api/v1/webhooks/radarr/4k``."""
        return f"{self.source.value}/{self.instance}" if self.instance else self.source.value

    def paths(self) -> tuple[str, ...]:
        """Every path the event names once: folder, files, then removed files."""
        every = (self.folder, *self.files, *self.removed)
        return tuple(dict.fromkeys(p for p in every if p))

    def to_json(self) -> JSONObject:
        """A JSON object for job payloads and results (empty values left out)."""
        data: dict[str, JSONValue] = {
            "source": self.source.value,
            "instance": self.instance,
            "event": self.event,
            "action": self.action.value,
            "kind": self.kind.value if self.kind else None,
            "title": self.title,
            "year": self.year,
            "ids": self.ids.as_json(),
            "folder": self.folder,
            "files": list(self.files),
            "removed": list(self.removed),
            "renamed": [{"old": r.old, "new": r.new} for r in self.renamed],
            "episodes": [_episode_json(e) for e in self.episodes],
            "upgrade": self.upgrade,
            "whole_item": self.whole_item,
            "files_deleted": self.files_deleted,
            "reason": self.reason,
            "download_id": self.download_id,
            "overview": self.overview,
            "genres": list(self.genres),
            "artwork": [{"type": a.type, "url": a.url} for a in self.artwork],
        }
        return {key: value for key, value in data.items() if value not in (None, [], {}, False)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> MediaEvent:
        """Read back what :meth:`to_json` wrote. Raises ValueError/KeyError on other shapes."""
        ids = data.get("ids") or {}
        kind = data.get("kind")
        if not isinstance(ids, Mapping):
            raise ValueError("ids must be an object")
        return cls(
            source=Source(str(data["source"])),
            instance=_opt_str(data.get("instance")),
            event=str(data["event"]),
            action=Action(str(data["action"])),
            kind=MediaKind(str(kind)) if kind else None,
            title=_opt_str(data.get("title")),
            year=_opt_int(data.get("year")),
            ids=MediaIds(
                tmdb=_opt_int(ids.get("tmdb")),
                imdb=_opt_str(ids.get("imdb")),
                tvdb=_opt_int(ids.get("tvdb")),
                tvmaze=_opt_int(ids.get("tvmaze")),
            ),
            folder=_opt_str(data.get("folder")),
            files=_strs(data.get("files")),
            removed=_strs(data.get("removed")),
            renamed=tuple(
                RenamedPath(old=str(r["old"]), new=str(r["new"]))
                for r in _objects(data.get("renamed"))
            ),
            episodes=tuple(
                EpisodeRef(
                    season=int(str(e["season"])),
                    episode=int(str(e["episode"])),
                    title=_opt_str(e.get("title")),
                    air_date=_opt_str(e.get("air_date")),
                    tvdb=_opt_int(e.get("tvdb")),
                )
                for e in _objects(data.get("episodes"))
            ),
            upgrade=bool(data.get("upgrade")),
            whole_item=bool(data.get("whole_item")),
            files_deleted=bool(data.get("files_deleted")),
            reason=_opt_str(data.get("reason")),
            download_id=_opt_str(data.get("download_id")),
            overview=_opt_str(data.get("overview")),
            genres=_strs(data.get("genres")),
            artwork=tuple(
                ArtworkRef(type=str(a["type"]), url=str(a["url"]))
                for a in _objects(data.get("artwork"))
            ),
        )


def media_event(event: ArrEvent, instance: str | None = None) -> MediaEvent:
    """Normalise a parsed webhook; ``instance`` is the name from the URL, if any."""
    payload = event.payload
    base = MediaEvent(
        source=event.source,
        instance=instance,
        event=event.event_type,
        action=Action.RECORD,
        kind=_kind(payload),
        title=payload.title(),
        year=payload.year(),
        ids=payload.ids(),
        folder=_folder(payload),
        episodes=_episodes(payload),
        overview=_overview(payload),
        genres=_genres(payload),
        artwork=_artwork(payload),
    )
    if not event.known:
        return base
    return _route(base, payload)


def _route(base: MediaEvent, payload: ArrPayload) -> MediaEvent:
    match payload:
        case RadarrDownload() | SonarrDownload():
            return replace(
                base,
                action=Action.SCAN,
                files=_present(base.folder, [_the_file(payload)]),
                removed=_present(base.folder, payload.deleted_files),
                upgrade=payload.is_upgrade,
                download_id=known_text(payload.download_id),
            )
        case SonarrImportComplete():
            return replace(
                base,
                action=Action.SCAN,
                folder=base.folder or known_text(payload.destination_path),
                files=_present(base.folder, payload.episode_files),
                download_id=known_text(payload.download_id),
            )
        case RadarrRename() | SonarrRename():
            renamed_files = (
                payload.renamed_movie_files
                if isinstance(payload, RadarrRename)
                else payload.renamed_episode_files
            )
            renamed = tuple(
                RenamedPath(old=f.previous_path, new=new)
                for f in renamed_files
                if f.previous_path and (new := _file_path(base.folder, f))
            )
            return replace(
                base,
                action=Action.SCAN,
                files=_present(base.folder, renamed_files),
                removed=tuple(r.old for r in renamed),
                renamed=renamed,
            )
        case RadarrMovieFileDelete() | SonarrEpisodeFileDelete():
            reason = known_text(payload.delete_reason)
            return replace(
                base,
                action=Action.RECORD if reason == "upgrade" else Action.REMOVE,
                removed=_present(base.folder, [_the_file(payload)]),
                reason=reason,
            )
        case RadarrMovieDelete() | SonarrSeriesDelete():
            return replace(
                base,
                action=Action.REMOVE,
                whole_item=True,
                files_deleted=payload.deleted_files,
            )
        case _:
            return base


def _the_file(
    payload: RadarrDownload | SonarrDownload | RadarrMovieFileDelete | SonarrEpisodeFileDelete,
) -> MediaFile | None:
    """The one file a per-file event is about (Radarr's ``movieFile``, Sonarr's
    ``episodeFile``)."""
    if isinstance(payload, RadarrDownload | RadarrMovieFileDelete):
        return payload.movie_file
    return payload.episode_file


def _kind(payload: ArrPayload) -> MediaKind | None:
    if isinstance(payload, RadarrEvent) and payload.movie is not None:
        return MediaKind.MOVIE
    if isinstance(payload, SonarrEvent) and payload.series is not None:
        return MediaKind.SERIES
    return None


def _folder(payload: ArrPayload) -> str | None:
    if isinstance(payload, RadarrEvent) and payload.movie is not None:
        return known_text(payload.movie.folder_path)
    if isinstance(payload, SonarrEvent) and payload.series is not None:
        return known_text(payload.series.path)
    return None


def _file_path(folder: str | None, file: MediaFile | None) -> str | None:
    """A file's path: ``path`` when sent, else the folder joined with ``relativePath``.

    Current Radarr never sets ``movie.filePath``, and an older or a relayed payload may
    lack ``movieFile.path``; the folder plus the relative path names the same file. The
    join keeps the *arr's separator (a Windows folder gets a backslash).
    """
    if file is None:
        return None
    if path := known_text(file.path):
        return path
    relative = known_text(file.relative_path)
    if folder is None or relative is None:
        return None
    if "\\" in folder and "/" not in folder:
        return folder.rstrip("\\") + "\\" + relative.replace("/", "\\")
    return posixpath.join(folder, relative)


def _present(folder: str | None, files: Iterable[MediaFile | None]) -> tuple[str, ...]:
    paths = (_file_path(folder, f) for f in files)
    return tuple(dict.fromkeys(p for p in paths if p))


def _episodes(payload: ArrPayload) -> tuple[EpisodeRef, ...]:
    if not isinstance(payload, SonarrEvent):
        return ()
    return tuple(_episode(e) for e in payload.episodes)


def _episode(episode: Episode) -> EpisodeRef:
    return EpisodeRef(
        season=episode.season_number,
        episode=episode.episode_number,
        title=known_text(episode.title),
        air_date=known_text(episode.air_date),
        tvdb=known_id(episode.tvdb_id),
    )


def _episode_json(episode: EpisodeRef) -> JSONObject:
    data: dict[str, JSONValue] = {
        "season": episode.season,
        "episode": episode.episode,
        "title": episode.title,
        "air_date": episode.air_date,
        "tvdb": episode.tvdb,
    }
    return {key: value for key, value in data.items() if value is not None}


def _overview(payload: ArrPayload) -> str | None:
    if isinstance(payload, RadarrEvent) and payload.movie is not None:
        return known_text(payload.movie.overview)
    return None


def _genres(payload: ArrPayload) -> tuple[str, ...]:
    if isinstance(payload, RadarrEvent) and payload.movie is not None:
        return payload.movie.genres
    if isinstance(payload, SonarrEvent) and payload.series is not None:
        return payload.series.genres
    return ()


def _artwork(payload: ArrPayload) -> tuple[ArtworkRef, ...]:
    images: tuple[Image, ...] = ()
    if isinstance(payload, RadarrEvent) and payload.movie is not None:
        images = payload.movie.images
    elif isinstance(payload, SonarrEvent) and payload.series is not None:
        images = payload.series.images
    return tuple(
        ArtworkRef(type=image.cover_type, url=image.remote_url)
        for image in images
        if image.cover_type and image.remote_url and image.remote_url.startswith("http")
    )


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value else None


def _strs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _objects(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


__all__ = [
    "Action",
    "ArtworkRef",
    "EpisodeRef",
    "MediaEvent",
    "MediaKind",
    "RenamedPath",
    "media_event",
]
