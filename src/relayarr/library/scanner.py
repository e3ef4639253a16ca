"""The scanner service: what a movie or series folder holds, read from disk.

>>> scan = Scanner().scan_movie("/srv/media/movies/Arrival (2016)")   # doctest: +SKIP
>>> scan.video.path, scan.nfo.info.main.unique_id("tmdb")             # doctest: +SKIP
('Arrival (2016).mkv', '329865')

Synchronous, on ``os.scandir``: the job handlers run it in a thread. It takes the item
folder itself (a movie's or a series' folder, the direct child of a root); a caller holding
a file, season or extras path gets that folder from
:attr:`relayarr.library.roots.Located.item_folder`. An unreadable file or subfolder is a
per-file issue in the result; only a folder that does not exist raises
(:class:`~relayarr.errors.FolderMissing`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

from relayarr.library.listing import list_folder
from relayarr.library.movies import movie_scan
from relayarr.library.results import MovieScan, SeriesScan
from relayarr.library.series import series_scan

log = logging.getLogger(__name__)


class Scanner:
    """Reads movie and series folders.

    ``confine_to`` (the library roots) fences symbolic links: a link to a file outside
    them is reported as an issue and never read. Without it, links to files are followed
    wherever they lead; links to folders are never followed either way.
    """

    def __init__(self, confine_to: Iterable[str | os.PathLike[str]] = ()) -> None:
        self._fences = tuple(os.path.realpath(path) for path in confine_to)

    def scan_movie(self, folder: str | Path, hint: str | None = None) -> MovieScan:
        """Scan a movie folder. ``hint``: the file the event names (absolute, or relative
        to the folder); it is the main video when present, else ``hint_missing`` is set
        and the largest video is chosen."""
        started = time.perf_counter()
        scan = movie_scan(list_folder(_absolute(folder), self._fences), hint)
        self._log("movie", scan.folder, started, len(scan.issues))
        return scan

    def scan_series(self, folder: str | Path) -> SeriesScan:
        """Scan a series folder (not a season folder: see the module docs)."""
        started = time.perf_counter()
        scan = series_scan(list_folder(_absolute(folder), self._fences))
        self._log("series", scan.folder, started, len(scan.issues))
        return scan

    @staticmethod
    def _log(kind: str, folder: str, started: float, issues: int) -> None:
        log.info(
            "folder scanned",
            extra={
                "service": "scanner",
                "kind": kind,
                "folder": folder,
                "issues": issues,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )


def _absolute(folder: str | Path) -> str:
    return os.path.normpath(os.path.abspath(folder))


__all__ = ["Scanner"]
