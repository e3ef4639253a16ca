"""A scan as the rows it should leave in the database: every file and asset with its
role and details, the seasons and episodes, and the item's own fields.

Pure: the store compares these with what is stored and writes the difference.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from relayarr.library.db.records import EventInfo
from relayarr.library.jsontypes import JSONObject
from relayarr.library.nfo import NfoDocument
from relayarr.library.results import (
    Artwork,
    MediaFile,
    MovieScan,
    NfoFile,
    SeriesScan,
    Subtitle,
    to_json,
)

_TITLE_YEAR = re.compile(r"^(?P<title>.+?)\s*\((?P<year>\d{4})\)(?:\s*\{.*\}|\s*\[.*\])*$")


@dataclass(frozen=True, slots=True)
class FileRow:
    path: str
    role: str
    size: int
    mtime_ns: int
    details: JSONObject | None = None


@dataclass(frozen=True, slots=True)
class AssetRow:
    path: str
    kind: str
    scope: str
    season: int | None
    video_path: str | None
    position: int | None
    size: int
    mtime_ns: int
    details: JSONObject | None = None


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    season: int
    episode: int
    file_path: str
    title: str | None


@dataclass(frozen=True, slots=True)
class ItemFields:
    """The item's own columns, from the event, the NFO and the folder name, in that order."""

    title: str
    original_title: str | None
    year: int | None
    tmdb_id: int | None
    imdb_id: str | None
    tvdb_id: int | None

    @property
    def sort_key(self) -> str:
        return self.title.casefold()

    def search_text(self, folder: str) -> str:
        words = [self.title, self.original_title or "", os.path.basename(folder)]
        if self.year is not None:
            words.append(str(self.year))
        return " ".join(words).casefold()


@dataclass(frozen=True, slots=True)
class ScanRows:
    fields: ItemFields
    files: tuple[FileRow, ...]
    assets: tuple[AssetRow, ...]
    seasons: tuple[tuple[int, str | None], ...] = ()
    episodes: tuple[EpisodeRow, ...] = ()


def movie_rows(scan: MovieScan, info: EventInfo | None) -> ScanRows:
    at = _Absolute(scan.folder)
    files: list[FileRow] = []
    if scan.video is not None:
        files.append(at.file(scan.video, "video"))
    files += (at.file(file, "video-other") for file in scan.other_videos)
    files += (at.file(file, "trailer") for file in scan.trailers)
    files += (at.file(extra.file, "extra", {"kind": extra.kind}) for extra in scan.extras)
    files += (at.file(file, "sample") for file in scan.samples)
    files += (at.subtitle(subtitle) for subtitle in scan.subtitles)
    files += (at.file(file, "other") for file in (*scan.other_nfos, *scan.other_files))
    assets = [at.artwork(art) for art in scan.artwork]
    if scan.nfo is not None:
        assets.append(at.nfo(scan.nfo, "folder", None))
    document = _document(scan.nfo)
    return ScanRows(_fields(scan.folder, info, document), tuple(files), tuple(assets))


def series_rows(scan: SeriesScan, info: EventInfo | None) -> ScanRows:
    at = _Absolute(scan.folder)
    files: list[FileRow] = []
    assets = [at.artwork(art) for art in scan.artwork]
    if scan.nfo is not None:
        assets.append(at.nfo(scan.nfo, "folder", None))
    episodes: dict[tuple[int, int], EpisodeRow] = {}
    for episode in scan.episodes:
        path = at.path(episode.file.path)
        numbers: JSONObject = {"season": episode.season, "episodes": list(episode.episodes)}
        files.append(at.file(episode.file, "episode", numbers))
        files += (at.subtitle(subtitle) for subtitle in episode.subtitles)
        assets += (at.artwork(art) for art in episode.artwork)
        documents: tuple[NfoDocument, ...] = ()
        if episode.nfo is not None:
            assets.append(at.nfo(episode.nfo, "video", path))
            documents = episode.nfo.info.documents if episode.nfo.info is not None else ()
        titles = {doc.episode: doc.title for doc in documents if doc.episode is not None}
        for number in episode.episodes:
            # Two files claiming one episode: the first (by season, number, path) keeps it.
            episodes.setdefault(
                (episode.season, number),
                EpisodeRow(episode.season, number, path, titles.get(number)),
            )
    for season in scan.seasons:
        assets += (at.artwork(art) for art in season.artwork)
    files += (at.file(file, "unnumbered") for file in scan.unnumbered)
    files += (at.file(file, "trailer") for file in scan.trailers)
    files += (at.file(extra.file, "extra", {"kind": extra.kind}) for extra in scan.extras)
    files += (at.file(file, "sample") for file in scan.samples)
    files += (at.file(file, "other") for file in scan.other_files)
    seasons = tuple(
        (season.number, None if season.folder is None else at.path(season.folder))
        for season in scan.seasons
    )
    return ScanRows(
        _fields(scan.folder, info, _document(scan.nfo)),
        tuple(files),
        tuple(assets),
        seasons,
        tuple(episodes.values()),
    )


class _Absolute:
    """Rows with absolute paths, for one item folder."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def path(self, relative: str) -> str:
        return f"{self.folder}/{relative}"

    def file(self, file: MediaFile, role: str, details: JSONObject | None = None) -> FileRow:
        return FileRow(self.path(file.path), role, file.size, file.mtime_ns, details)

    def subtitle(self, subtitle: Subtitle) -> FileRow:
        details: JSONObject = {
            "video": None if subtitle.video is None else self.path(subtitle.video),
            "language": subtitle.language,
            "flags": list(subtitle.flags),
            "label": subtitle.label,
        }
        return self.file(subtitle.file, "subtitle", details)

    def artwork(self, art: Artwork) -> AssetRow:
        video = None if art.video is None else self.path(art.video)
        file = art.file
        return AssetRow(
            self.path(file.path),
            art.kind,
            art.scope.value,
            art.season,
            video,
            art.index,
            file.size,
            file.mtime_ns,
        )

    def nfo(self, nfo: NfoFile, scope: str, video: str | None) -> AssetRow:
        details: JSONObject = (
            {"error": nfo.error} if nfo.info is None else {"info": to_json(nfo.info)}
        )
        file = nfo.file
        return AssetRow(
            self.path(file.path),
            "nfo",
            scope,
            None,
            video,
            None,
            file.size,
            file.mtime_ns,
            details,
        )


def _document(nfo: NfoFile | None) -> NfoDocument | None:
    if nfo is None or nfo.info is None or not nfo.info.documents:
        return None
    return nfo.info.main


def _fields(folder: str, info: EventInfo | None, nfo: NfoDocument | None) -> ItemFields:
    event = info or EventInfo()
    name = os.path.basename(folder)
    parsed = _TITLE_YEAR.match(name)
    folder_title = parsed.group("title") if parsed else name
    folder_year = int(parsed.group("year")) if parsed else None
    return ItemFields(
        title=event.title or (nfo.title if nfo else None) or folder_title,
        original_title=nfo.original_title if nfo else None,
        year=_first(event.year, nfo.year if nfo else None, folder_year),
        tmdb_id=_first(event.tmdb_id, _int(nfo.unique_id("tmdb")) if nfo else None),
        imdb_id=event.imdb_id or (nfo.unique_id("imdb") if nfo else None),
        tvdb_id=_first(event.tvdb_id, _int(nfo.unique_id("tvdb")) if nfo else None),
    )


def _first(*values: int | None) -> int | None:
    return next((value for value in values if value is not None), None)


def _int(text: str | None) -> int | None:
    if text is None or not text.isdigit():
        return None
    return int(text)


__all__ = [
    "AssetRow",
    "EpisodeRow",
    "FileRow",
    "ItemFields",
    "ScanRows",
    "movie_rows",
    "series_rows",
]
