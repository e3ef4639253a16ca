"""What a file's name says it is: a video, an NFO, artwork (both Kodi naming styles),
a subtitle, a trailer, a sample, or an extra; and what a folder's name says it holds.

Pure functions on names, no file system: the scanner asks, these answer. Names compare
case-insensitively where players do (extensions, artwork types, extras folders).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

VIDEO_EXTENSIONS = frozenset(
    {
        "mkv",
        "mp4",
        "m4v",
        "avi",
        "mov",
        "wmv",
        "mpg",
        "mpeg",
        "ts",
        "m2ts",
        "mts",
        "webm",
        "flv",
        "ogv",
        "vob",
        "iso",
        "divx",
        "3gp",
        "rmvb",
        "strm",
    }
)
SUBTITLE_EXTENSIONS = frozenset({"srt", "ass", "ssa", "sub", "idx", "vtt", "sup", "smi", "ttml"})
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp", "tbn", "gif", "bmp"})
NFO_EXTENSION = "nfo"

# Kodi's artwork types, with the other names players and *arrs write for the same thing.
ARTWORK_TYPES = {
    "poster": "poster",
    "folder": "poster",
    "cover": "poster",
    "fanart": "fanart",
    "backdrop": "fanart",
    "background": "fanart",
    "banner": "banner",
    "clearlogo": "clearlogo",
    "logo": "clearlogo",
    "clearart": "clearart",
    "discart": "discart",
    "disc": "discart",
    "landscape": "landscape",
    "keyart": "keyart",
    "thumb": "thumb",
    "characterart": "characterart",
}

# Jellyfin's and Plex's extras folders and Plex's file suffixes, by their folded name.
EXTRA_FOLDERS = {
    "extras": "extra",
    "extra": "extra",
    "featurettes": "featurette",
    "behindthescenes": "behindthescenes",
    "deletedscenes": "deleted",
    "interviews": "interview",
    "scenes": "scene",
    "shorts": "short",
    "clips": "clip",
    "other": "other",
    "others": "other",
    "trailers": "trailer",
}
_EXTRA_SUFFIXES = {
    "behindthescenes": "behindthescenes",
    "deleted": "deleted",
    "featurette": "featurette",
    "interview": "interview",
    "scene": "scene",
    "short": "short",
    "other": "other",
    "extra": "extra",
}
SAMPLE_FOLDERS = frozenset({"sample", "samples"})
SUBTITLE_FOLDERS = frozenset({"subs", "subtitles"})
EXTRA_ARTWORK_FOLDERS = {"extrafanart": "fanart", "extrathumbs": "thumb"}

_SAMPLE = re.compile(r"(?:^|[\s._\-\[(])sample(?:$|[\s._\-\])])", re.IGNORECASE)
_NUMBERED_TYPE = re.compile(r"^([a-z]+?)(\d*)$")
_SEASON_ART = re.compile(r"^season(?:(\d{1,4})|-(specials|all))-([a-z]+?)(\d*)$", re.IGNORECASE)


def split_name(name: str) -> tuple[str, str]:
    """``("Arrival (2016)", "mkv")``: the stem and the folded extension (``""`` for none)."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, extension.lower()


def is_video_path(path: str) -> bool:
    """True when the file ``path`` names has a video extension."""
    return split_name(PurePath(path).name)[1] in VIDEO_EXTENSIONS


def fold(name: str) -> str:
    """A folder or suffix name reduced to compare: ``Behind The Scenes`` -> ``behindthescenes``."""
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def is_sample(stem: str) -> bool:
    """``movie-sample``, ``Sample``, ``x.sample.mkv``: a sample clip, never the main video."""
    return bool(_SAMPLE.search(stem))


def trailer_stem(stem: str) -> bool:
    """``Arrival (2016)-trailer`` or ``trailer``: a trailer by its name."""
    folded = stem.casefold()
    return folded == "trailer" or folded.endswith("-trailer")


def extra_suffix(stem: str) -> str | None:
    """Plex's extras by name: ``Making Of-featurette`` -> ``featurette``."""
    head, dash, suffix = stem.rpartition("-")
    if not dash or not head:
        return None
    return _EXTRA_SUFFIXES.get(suffix.casefold())


class ArtworkScope(StrEnum):
    """Whom a piece of artwork belongs to."""

    FOLDER = "folder"  # poster.jpg: the movie or series of the folder
    VIDEO = "video"  # <video stem>-poster.jpg, <episode stem>-thumb.jpg
    SEASON = "season"  # season01-poster.jpg, or poster.jpg inside a season folder
    ALL_SEASONS = "all-seasons"  # season-all-poster.jpg


@dataclass(frozen=True, slots=True)
class ArtworkName:
    """What an image's name says: its type (Kodi's name), whom it belongs to, and its
    number when there are several (``fanart1.jpg``)."""

    kind: str
    scope: ArtworkScope
    video_stem: str | None = None
    season: int | None = None
    index: int | None = None


def artwork_name(stem: str, video_stems: frozenset[str]) -> ArtworkName | None:
    """Read an image's stem in both Kodi styles: ``poster``, ``fanart2``, ``<stem>-poster``,
    ``season01-poster``, ``season-specials-banner``, ``season-all-fanart``; ``None`` when
    it is none of them. A bare ``<video stem>`` (``.tbn``, ``.jpg``) is that video's thumb.
    """
    if stem in video_stems:
        return ArtworkName("thumb", ArtworkScope.VIDEO, video_stem=stem)
    if match := _SEASON_ART.match(stem):
        number, special, kind, index = match.groups()
        canonical = ARTWORK_TYPES.get(kind.lower())
        if canonical is None:
            return None
        position = int(index) if index else None
        if special and special.lower() == "all":
            return ArtworkName(canonical, ArtworkScope.ALL_SEASONS, index=position)
        season = 0 if special else int(number)
        return ArtworkName(canonical, ArtworkScope.SEASON, season=season, index=position)
    head, dash, tail = stem.rpartition("-")
    if dash and head in video_stems:
        typed = _typed(tail)
        if typed is not None:
            return ArtworkName(typed[0], ArtworkScope.VIDEO, video_stem=head, index=typed[1])
    typed = _typed(stem)
    if typed is not None:
        return ArtworkName(typed[0], ArtworkScope.FOLDER, index=typed[1])
    return None


def _typed(text: str) -> tuple[str, int | None] | None:
    match = _NUMBERED_TYPE.match(text.lower())
    if match is None:
        return None
    kind, index = match.groups()
    canonical = ARTWORK_TYPES.get(kind)
    if canonical is None:
        return None
    return canonical, int(index) if index else None


__all__ = [
    "ARTWORK_TYPES",
    "EXTRA_ARTWORK_FOLDERS",
    "EXTRA_FOLDERS",
    "IMAGE_EXTENSIONS",
    "NFO_EXTENSION",
    "SAMPLE_FOLDERS",
    "SUBTITLE_EXTENSIONS",
    "SUBTITLE_FOLDERS",
    "VIDEO_EXTENSIONS",
    "ArtworkName",
    "ArtworkScope",
    "artwork_name",
    "extra_suffix",
    "fold",
    "is_sample",
    "split_name",
    "trailer_stem",
]
