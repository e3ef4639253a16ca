"""File names Kodi looks for, relative to the item's folder.

- Movie NFO: ``<video stem>.nfo`` (``nfo = "video"``) or ``movie.nfo`` beside the video
  (``nfo = "movie"``). Series: ``tvshow.nfo``. Episode: ``<video stem>.nfo``.
- Movie artwork: ``<video stem>-poster.jpg`` (``artwork_style = "video"``) or
  ``poster.jpg`` (``"folder"``). Series artwork is always folder style in the series
  folder; an episode's still is ``<video stem>-thumb.jpg``.

The extension of an image follows its content (``.jpg``, ``.png``, ``.webp``), so every
lookup of an existing image tries the three.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from relayarr.metadata.models import AnyMetadata, EpisodeMetadata, SeriesMetadata
from relayarr.metadata.publish.images import EXTENSIONS
from relayarr.metadata.settings import ArtworkStyle, NfoMode

IMAGE_EXTENSIONS = tuple(EXTENSIONS.values())
ALL_ART_KINDS = (
    "poster",
    "fanart",
    "clearlogo",
    "clearart",
    "discart",
    "banner",
    "landscape",
    "keyart",
    "thumb",
)


def stem_of(video: str) -> str:
    """``Season 02/Show - S02E03.mkv`` -> ``Season 02/Show - S02E03``."""
    return str(PurePosixPath(video).with_suffix(""))


def _beside(stem: str, name: str) -> str:
    parent = PurePosixPath(stem).parent
    return name if str(parent) == "." else f"{parent}/{name}"


def nfo_name(kind: type[AnyMetadata], mode: NfoMode, stem: str | None) -> str | None:
    """The NFO to write, or None (``nfo = "off"``, or no video to name it after)."""
    if mode == "off":
        return None
    if kind is SeriesMetadata:
        return "tvshow.nfo"
    if stem is None:
        return None
    if kind is EpisodeMetadata or mode == "video":
        return f"{stem}.nfo"
    return _beside(stem, "movie.nfo")


def art_base(
    kind: type[AnyMetadata], art: str, style: ArtworkStyle, stem: str | None
) -> str | None:
    """An image's name without extension (``Arrival-poster``), or None if it has none."""
    if kind is SeriesMetadata:
        return art
    if stem is None:
        return None
    if kind is EpisodeMetadata:
        return f"{stem}-{art}"
    return f"{stem}-{art}" if style == "video" else _beside(stem, art)


def art_names(base: str) -> tuple[str, ...]:
    """Every name an image of ``base`` may have (one per extension)."""
    return tuple(base + ext for ext in IMAGE_EXTENSIONS)


def stale_names(stem: str, mode: NfoMode) -> tuple[str, ...]:
    """The files of a video that is gone: its NFO and its per-video artwork."""
    names = [f"{stem}.nfo"] if mode != "off" else []
    for art in ALL_ART_KINDS:
        names.extend(art_names(f"{stem}-{art}"))
    return tuple(names)


__all__ = ["ALL_ART_KINDS", "art_base", "art_names", "nfo_name", "stale_names", "stem_of"]
