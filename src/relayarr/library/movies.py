"""Reading a movie folder's listing into a :class:`~relayarr.library.results.MovieScan`.

Layout understood (Kodi's, Jellyfin's and Plex's, as Radarr writes it)::

    Arrival (2016)/
      Arrival (2016).mkv                     the main video (or the file the webhook names)
      movie.nfo | Arrival (2016).nfo         movie.nfo wins when both exist, as in Kodi
      poster.jpg  Arrival (2016)-fanart.jpg  artwork, folder or file style
      Arrival (2016).en.forced.srt           subtitles, with language and flags
      Arrival (2016)-trailer.mkv             trailers (also trailer.mkv, Trailers/)
      Extras/ Featurettes/ Deleted Scenes/   extras (also Plex's -featurette suffixes)
      extrafanart/ Subs/ Sample/             more fanart, loose subtitles, samples
"""

from __future__ import annotations

import os

from relayarr.library.classify import (
    FolderRole,
    Sorted,
    VideoIndex,
    base_name,
    loose_subtitle,
    match_subtitle,
    path_role,
    read_artwork,
    sort_files,
    stem,
)
from relayarr.library.listing import Listing, read_nfo
from relayarr.library.naming import EXTRA_ARTWORK_FOLDERS, ArtworkScope
from relayarr.library.results import (
    Artwork,
    MediaFile,
    MovieScan,
    NfoFile,
    ScanIssue,
    Subtitle,
)

MOVIE_NFO = "movie.nfo"


def movie_scan(listing: Listing, hint: str | None) -> MovieScan:
    """Everything the listing of a movie folder holds, the main video chosen by ``hint``
    (a path, absolute or relative to the folder) or by size."""
    top = sort_files(listing.files.get("", []), FolderRole.PLAIN, None)
    issues = list(listing.issues)
    nested, extra_artwork = _nested(listing)
    candidates = sorted(top.videos, key=lambda file: file.path)
    video, hint_missing = _main_video(listing.folder, candidates, hint, issues)
    videos = VideoIndex(candidates)

    nfo, other_nfos = _nfo(listing.folder, top.nfos, video, issues)
    artwork: list[Artwork] = []
    others = list(top.others) + nested.others + nested.nfos
    for image in top.images:
        found = read_artwork(image, videos)
        if found is None or found[1].scope in (ArtworkScope.SEASON, ArtworkScope.ALL_SEASONS):
            others.append(image)
        else:
            artwork.append(found[1])
    artwork.extend(extra_artwork)
    others.extend(nested.images)

    subtitles: list[Subtitle] = []
    for file in top.subtitles:
        subtitles.append(match_subtitle(file, videos) or loose_subtitle(file, video))
    subtitles.extend(loose_subtitle(file, video) for file in nested.subtitles)

    return MovieScan(
        folder=listing.folder,
        video=video,
        other_videos=tuple(file for file in candidates + nested.videos if file is not video),
        nfo=nfo,
        other_nfos=tuple(other_nfos),
        artwork=tuple(artwork),
        subtitles=tuple(subtitles),
        trailers=tuple(top.trailers + nested.trailers),
        extras=tuple(top.extras + nested.extras),
        samples=tuple(top.samples + nested.samples),
        other_files=tuple(others),
        issues=tuple(issues),
        signature=listing.signature,
        hint_missing=hint_missing,
    )


def _nested(listing: Listing) -> tuple[Sorted, list[Artwork]]:
    """Every file below the top folder, sorted by the role of its top subfolder; images in
    ``extrafanart/`` and ``extrathumbs/`` are more fanart and thumbs, numbered by name."""
    merged = Sorted()
    extra_artwork: list[Artwork] = []
    for parent, files in listing.files.items():
        if not parent:
            continue
        role, extras_kind = path_role(parent)
        part = sort_files(files, role, extras_kind)
        if role is FolderRole.EXTRA_ARTWORK and "/" not in parent:
            kind = EXTRA_ARTWORK_FOLDERS[parent.lower()]
            images = sorted(part.images, key=lambda file: file.path)
            extra_artwork += (
                Artwork(file, kind, ArtworkScope.FOLDER, index=number)
                for number, file in enumerate(images, start=1)
            )
            part.images = []
        merged.videos += part.videos
        merged.trailers += part.trailers
        merged.extras += part.extras
        merged.samples += part.samples
        merged.nfos += part.nfos
        merged.images += part.images
        merged.subtitles += part.subtitles
        merged.others += part.others
    return merged, extra_artwork


def _main_video(
    folder: str, candidates: list[MediaFile], hint: str | None, issues: list[ScanIssue]
) -> tuple[MediaFile | None, bool]:
    """The hinted video if it is there, else the largest (the first by name on a tie, so
    a rescan picks the same one); and whether a hint named a file that is not there."""
    if hint is not None:
        relative = os.path.relpath(hint, folder) if os.path.isabs(hint) else hint
        relative = os.path.normpath(relative).replace(os.sep, "/")
        for file in candidates:
            if file.path == relative:
                return file, False
        issues.append(ScanIssue(relative, "the file named by the event is not in the folder"))
    largest = min(candidates, key=lambda file: (-file.size, file.path), default=None)
    return largest, hint is not None


def _nfo(
    folder: str, nfos: list[MediaFile], video: MediaFile | None, issues: list[ScanIssue]
) -> tuple[NfoFile | None, list[MediaFile]]:
    by_name = {base_name(file.path): file for file in nfos}
    chosen = by_name.get(MOVIE_NFO)
    if chosen is None and video is not None:
        chosen = by_name.get(stem(video) + ".nfo")
    if chosen is None:
        return None, nfos
    nfo, issue = read_nfo(folder, chosen)
    if issue is not None:
        issues.append(issue)
    return nfo, [file for file in nfos if file is not chosen]


__all__ = ["MOVIE_NFO", "movie_scan"]
