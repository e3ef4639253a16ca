"""Sorting one folder's files by role, shared by the movie and series scans: which
videos are bonus material, which subtitle belongs to which video, what an image is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from relayarr.library.naming import (
    EXTRA_ARTWORK_FOLDERS,
    EXTRA_FOLDERS,
    IMAGE_EXTENSIONS,
    NFO_EXTENSION,
    SAMPLE_FOLDERS,
    SUBTITLE_EXTENSIONS,
    SUBTITLE_FOLDERS,
    VIDEO_EXTENSIONS,
    ArtworkName,
    artwork_name,
    extra_suffix,
    fold,
    is_sample,
    split_name,
    trailer_stem,
)
from relayarr.library.results import Artwork, Extra, MediaFile, Subtitle
from relayarr.library.subtitles import subtitle_name


class FolderRole(StrEnum):
    """What a subfolder of an item holds, by its name."""

    PLAIN = "plain"  # nothing special: the movie's or the season's own files
    EXTRAS = "extras"  # Extras, Featurettes, Behind The Scenes, Trailers, ...
    SAMPLES = "samples"
    SUBTITLES = "subtitles"  # Subs, Subtitles
    EXTRA_ARTWORK = "extra-artwork"  # extrafanart, extrathumbs


def folder_role(name: str) -> FolderRole:
    """The role a subfolder's name gives it (and everything below it)."""
    folded = fold(name)
    if folded in EXTRA_FOLDERS:
        return FolderRole.EXTRAS
    if folded in SAMPLE_FOLDERS:
        return FolderRole.SAMPLES
    if folded in SUBTITLE_FOLDERS:
        return FolderRole.SUBTITLES
    if name.lower() in EXTRA_ARTWORK_FOLDERS:
        return FolderRole.EXTRA_ARTWORK
    return FolderRole.PLAIN


def path_role(parent: str) -> tuple[FolderRole, str | None]:
    """The role of a relative folder: that of its outermost specially named component
    (``Season 01/Extras/Making Of`` holds extras), with the extras kind it names."""
    for part in parent.split("/") if parent else ():
        role = folder_role(part)
        if role is not FolderRole.PLAIN:
            return role, EXTRA_FOLDERS.get(fold(part))
    return FolderRole.PLAIN, None


def base_name(path: str) -> str:
    return path.rpartition("/")[2]


def extension(file: MediaFile) -> str:
    return split_name(base_name(file.path))[1]


def stem(file: MediaFile) -> str:
    return split_name(base_name(file.path))[0]


@dataclass(slots=True)
class Sorted:
    """One folder's files by kind. Videos are split into bonus material and the rest."""

    videos: list[MediaFile] = field(default_factory=list)
    trailers: list[MediaFile] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    samples: list[MediaFile] = field(default_factory=list)
    nfos: list[MediaFile] = field(default_factory=list)
    images: list[MediaFile] = field(default_factory=list)
    subtitles: list[MediaFile] = field(default_factory=list)
    others: list[MediaFile] = field(default_factory=list)


def sort_files(files: Iterable[MediaFile], role: FolderRole, extras_kind: str | None) -> Sorted:
    """Sort a folder's files; in an extras folder every video is an extra of
    ``extras_kind``, in a samples folder every video is a sample."""
    result = Sorted()
    for file in files:
        name_stem, ext = split_name(base_name(file.path))
        if ext in VIDEO_EXTENSIONS:
            _sort_video(result, file, name_stem, role, extras_kind)
        elif ext == NFO_EXTENSION:
            result.nfos.append(file)
        elif ext in IMAGE_EXTENSIONS:
            result.images.append(file)
        elif ext in SUBTITLE_EXTENSIONS:
            result.subtitles.append(file)
        else:
            result.others.append(file)
    return result


def _sort_video(
    result: Sorted, file: MediaFile, name_stem: str, role: FolderRole, extras_kind: str | None
) -> None:
    if role is FolderRole.SAMPLES or is_sample(name_stem):
        result.samples.append(file)
    elif role is FolderRole.EXTRAS and extras_kind == "trailer":
        result.trailers.append(file)
    elif role is FolderRole.EXTRAS:
        result.extras.append(Extra(file, extras_kind or "extra"))
    elif trailer_stem(name_stem):
        result.trailers.append(file)
    elif (kind := extra_suffix(name_stem)) is not None:
        result.extras.append(Extra(file, kind))
    else:
        result.videos.append(file)


class VideoIndex:
    """A folder's videos by stem, built once so matching a name costs the same whatever
    the number of videos (a folder of thousands of files stays fast)."""

    __slots__ = ("by_stem", "stems")

    def __init__(self, videos: Iterable[MediaFile]) -> None:
        self.by_stem = {stem(video): video for video in videos}
        self.stems = frozenset(self.by_stem)

    def owner(self, name: str) -> MediaFile | None:
        """The video whose stem, followed by a dot, begins ``name`` (the longest one)."""
        head = name
        while "." in head:
            head = head.rpartition(".")[0]
            if head in self.by_stem:
                return self.by_stem[head]
        return None


def match_subtitle(file: MediaFile, videos: VideoIndex) -> Subtitle | None:
    """The subtitle for the video whose stem begins its name; ``None`` when none does."""
    name = base_name(file.path)
    owner = videos.owner(name)
    if owner is None:
        return None
    read = subtitle_name(name, stem(owner))
    return Subtitle(file, owner.path, read.language, read.flags, read.label)


def loose_subtitle(file: MediaFile, video: MediaFile | None) -> Subtitle:
    """A subtitle that names no video (``Subs/English.srt``): it belongs to ``video``, and
    its language and flags are read from its whole name."""
    read = subtitle_name(base_name(file.path), None)
    owner = None if video is None else video.path
    return Subtitle(file, owner, read.language, read.flags, read.label)


def read_artwork(file: MediaFile, videos: VideoIndex) -> tuple[ArtworkName, Artwork] | None:
    """An image as artwork in either Kodi style, tied to its video when it names one;
    ``None`` when its name is no artwork name."""
    name = artwork_name(stem(file), videos.stems)
    if name is None:
        return None
    video = videos.by_stem[name.video_stem].path if name.video_stem is not None else None
    return name, Artwork(file, name.kind, name.scope, video, name.season, name.index)


__all__ = [
    "FolderRole",
    "Sorted",
    "VideoIndex",
    "base_name",
    "extension",
    "folder_role",
    "loose_subtitle",
    "match_subtitle",
    "path_role",
    "read_artwork",
    "sort_files",
    "stem",
]
