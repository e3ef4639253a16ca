"""Reading a series folder's listing into a :class:`~relayarr.library.results.SeriesScan`.

Layout understood (Kodi's and Sonarr's)::

    Severance/
      tvshow.nfo  poster.jpg  fanart.jpg  banner.jpg  clearlogo.png      the show
      season01-poster.jpg  season-specials-poster.jpg  season-all-banner.jpg
      Season 01/                                   also Season 1, S01; Specials = season 0
        Severance - S01E01 - Good News About Hell.mkv
        Severance - S01E01 - Good News About Hell.nfo        <episodedetails>
        Severance - S01E01 - Good News About Hell-thumb.jpg
        Severance - S01E01 - Good News About Hell.en.srt
        poster.jpg                                 this season's own artwork
      Extras/  Featurettes/ ...                    extras of the show

An episode's season comes from its name (``S02E03``, ``2x03``); a bare ``E03`` or
``Episode 3`` counts only inside a season folder. Episodes outside season folders (all
in the series folder, or in a folder of another name) are found by their names too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from relayarr.library.classify import (
    VideoIndex,
    base_name,
    match_subtitle,
    path_role,
    read_artwork,
    sort_files,
    stem,
)
from relayarr.library.episodes import episode_numbers, season_folder
from relayarr.library.listing import Listing, read_nfo
from relayarr.library.naming import ArtworkScope
from relayarr.library.results import (
    Artwork,
    EpisodeFile,
    Extra,
    MediaFile,
    NfoFile,
    ScanIssue,
    SeasonScan,
    SeriesScan,
    Subtitle,
)

SHOW_NFO = "tvshow.nfo"


class _Collector:
    """What the folders of one series add up to, gathered folder by folder."""

    def __init__(self, listing: Listing) -> None:
        self.listing = listing
        self.issues: list[ScanIssue] = list(listing.issues)
        self.show_nfo: NfoFile | None = None
        self.show_art: list[Artwork] = []
        self.season_art: dict[int, list[Artwork]] = defaultdict(list)
        self.season_folders: dict[int, str] = {}
        self.episodes: list[EpisodeFile] = []
        self.unnumbered: list[MediaFile] = []
        self.trailers: list[MediaFile] = []
        self.extras: list[Extra] = []
        self.samples: list[MediaFile] = []
        self.others: list[MediaFile] = []

    def folder(self, parent: str, files: list[MediaFile]) -> None:
        """Sort one folder's files: ``parent`` is relative to the series folder."""
        head = parent.split("/", 1)[0]
        season = season_folder(head) if head else None
        if season is not None and parent == head:
            self.season_folders.setdefault(season, parent)
        part = sort_files(files, *path_role(parent))
        self.trailers += part.trailers
        self.extras += part.extras
        self.samples += part.samples
        videos = VideoIndex(part.videos)
        nfos = {base_name(file.path): file for file in part.nfos}
        if not parent and SHOW_NFO in nfos:
            self.show_nfo = self._read(nfos.pop(SHOW_NFO))
        by_video = self._art(parent, season, part.images, videos)
        subtitles = self._subtitles(part.subtitles, videos)
        for video in part.videos:
            numbers = episode_numbers(base_name(video.path), season)
            if numbers is None:
                self.unnumbered.append(video)
                continue
            nfo_file = nfos.pop(stem(video) + ".nfo", None)
            self.episodes.append(
                EpisodeFile(
                    file=video,
                    season=numbers.season,
                    episodes=numbers.episodes,
                    nfo=None if nfo_file is None else self._read(nfo_file),
                    artwork=tuple(by_video.get(video.path, ())),
                    subtitles=tuple(subtitles.get(video.path, ())),
                )
            )
        self.others += nfos.values()
        self.others += part.others

    def _read(self, file: MediaFile) -> NfoFile:
        nfo, issue = read_nfo(self.listing.folder, file)
        if issue is not None:
            self.issues.append(issue)
        return nfo

    def _art(
        self, parent: str, season: int | None, images: Iterable[MediaFile], videos: VideoIndex
    ) -> dict[str, list[Artwork]]:
        by_video: dict[str, list[Artwork]] = defaultdict(list)
        for image in images:
            found = read_artwork(image, videos)
            if found is None:
                self.others.append(image)
                continue
            name, art = found
            if art.video is not None:
                by_video[art.video].append(art)
            elif name.scope is ArtworkScope.SEASON and name.season is not None and not parent:
                self.season_art[name.season].append(art)
            elif name.scope in (ArtworkScope.FOLDER, ArtworkScope.ALL_SEASONS) and not parent:
                self.show_art.append(art)
            elif name.scope is ArtworkScope.FOLDER and season is not None and "/" not in parent:
                # poster.jpg inside "Season 01": that season's own artwork.
                self.season_art[season].append(
                    Artwork(image, art.kind, ArtworkScope.SEASON, season=season, index=art.index)
                )
            else:
                self.others.append(image)
        return by_video

    def _subtitles(
        self, files: Iterable[MediaFile], videos: VideoIndex
    ) -> dict[str, list[Subtitle]]:
        by_video: dict[str, list[Subtitle]] = defaultdict(list)
        for file in files:
            subtitle = match_subtitle(file, videos)
            if subtitle is None or subtitle.video is None:
                self.others.append(file)
            else:
                by_video[subtitle.video].append(subtitle)
        return by_video

    def result(self) -> SeriesScan:
        numbers = set(self.season_folders) | set(self.season_art)
        numbers |= {episode.season for episode in self.episodes}
        seasons = tuple(
            SeasonScan(
                number=number,
                folder=self.season_folders.get(number),
                artwork=tuple(self.season_art.get(number, ())),
            )
            for number in sorted(numbers)
        )
        episodes = sorted(self.episodes, key=lambda e: (e.season, e.episodes, e.file.path))
        return SeriesScan(
            folder=self.listing.folder,
            nfo=self.show_nfo,
            artwork=tuple(self.show_art),
            seasons=seasons,
            episodes=tuple(episodes),
            unnumbered=tuple(self.unnumbered),
            trailers=tuple(self.trailers),
            extras=tuple(self.extras),
            samples=tuple(self.samples),
            other_files=tuple(self.others),
            issues=tuple(self.issues),
            signature=self.listing.signature,
        )


def series_scan(listing: Listing) -> SeriesScan:
    """Everything the listing of a series folder holds."""
    collector = _Collector(listing)
    for parent in sorted(listing.files):
        collector.folder(parent, listing.files[parent])
    for folder in listing.folders:  # an empty "Season 03" is still a season
        number = season_folder(folder) if "/" not in folder else None
        if number is not None:
            collector.season_folders.setdefault(number, folder)
    return collector.result()


__all__ = ["SHOW_NFO", "series_scan"]
