"""The media library: path mapping, library roots, the scanner, reconciliation and the
library database.

Each service is a small class with one job that never calls another; the job handlers
(:mod:`relayarr.pipeline`) connect them:

- :class:`~relayarr.library.paths.PathMapper`: a path as an *arr sends it -> relayarr's view
- :class:`~relayarr.library.roots.LibraryRoots`: which root holds a path; is it mounted
- :class:`~relayarr.library.scanner.Scanner`: what a movie or series folder holds
- :class:`~relayarr.library.reconcile.Reconciler`: which item folders changed since their scan
- :class:`~relayarr.library.db.LibraryStore`: the library database
"""
