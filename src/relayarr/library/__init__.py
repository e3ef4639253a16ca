"""The media library: path mapping, library roots, the scanner, reconciliation and the
library database.

Each service is a small class with one job that never calls another; the job handlers
(:mod:`relayarr.pipeline`) connect them:

- :class:`PathMapper` (:mod:`~.paths`): a path as an *arr sends it -> relayarr's view
- :class:`LibraryRoots` (:mod:`~.roots`): which root holds a path; is it mounted
- :class:`Scanner` (:mod:`~.scanner`): what a movie or series folder holds
- :class:`Reconciler` (:mod:`~.reconcile`): which item folders changed since their scan
- :class:`~relayarr.library.db.LibraryStore` (:mod:`~.db`): the library database

Their settings are :mod:`~.settings` (``[library]``, ``[[mappings]]``).
"""

from relayarr.library.paths import MappedPath, MappingTrace, PathMapper, PathRule
from relayarr.library.reconcile import ChangeKind, FolderChange, Reconciler, ReconcileStats
from relayarr.library.results import MovieScan, ScanIssue, SeriesScan
from relayarr.library.roots import LibraryRoot, LibraryRoots, Located, RootKind, RootStatus
from relayarr.library.scanner import Scanner

__all__ = [
    "ChangeKind",
    "FolderChange",
    "LibraryRoot",
    "LibraryRoots",
    "Located",
    "MappedPath",
    "MappingTrace",
    "MovieScan",
    "PathMapper",
    "PathRule",
    "ReconcileStats",
    "Reconciler",
    "RootKind",
    "RootStatus",
    "ScanIssue",
    "Scanner",
    "SeriesScan",
]
