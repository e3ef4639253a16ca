"""Radarr and Sonarr webhooks as typed, tolerant models: :func:`parse_webhook`.

>>> from relayarr.arr import Source, parse_webhook
>>> event = parse_webhook(Source.RADARR, {"eventType": "Download", "movie": {
...     "title": "Arrival", "year": 2016, "folderPath": "/movies/Arrival (2016)"}})
>>> event.summary()["paths"]
['/movies/Arrival (2016)']

A body that does not fit raises :class:`relayarr.errors.PayloadInvalid` naming each bad
field (``movie.folderPath``); unknown fields are ignored and unknown event types parse with
``known=False``. The models live in :mod:`~relayarr.arr.radarr` (one per Radarr event),
:mod:`~relayarr.arr.sonarr` (one per Sonarr event, two for Download) and
:mod:`~relayarr.arr.common` (shared objects and the normalised views: :class:`MediaIds`,
:class:`MediaPaths`).
"""

from relayarr.arr.common import ArrPayload, MediaIds, MediaPaths, UnknownEvent
from relayarr.arr.events import AnyPayload, ArrEvent, Source, parse_webhook
from relayarr.arr.radarr import (
    RadarrApplicationUpdate,
    RadarrDownload,
    RadarrEvent,
    RadarrGrab,
    RadarrHealth,
    RadarrManualInteractionRequired,
    RadarrMovieAdded,
    RadarrMovieDelete,
    RadarrMovieFileDelete,
    RadarrPayload,
    RadarrRename,
    RadarrTest,
)
from relayarr.arr.sonarr import (
    SonarrApplicationUpdate,
    SonarrDownload,
    SonarrEpisodeFileDelete,
    SonarrEvent,
    SonarrGrab,
    SonarrHealth,
    SonarrImportComplete,
    SonarrManualInteractionRequired,
    SonarrPayload,
    SonarrRename,
    SonarrSeriesAdd,
    SonarrSeriesDelete,
    SonarrTest,
)

__all__ = [
    "AnyPayload",
    "ArrEvent",
    "ArrPayload",
    "MediaIds",
    "MediaPaths",
    "RadarrApplicationUpdate",
    "RadarrDownload",
    "RadarrEvent",
    "RadarrGrab",
    "RadarrHealth",
    "RadarrManualInteractionRequired",
    "RadarrMovieAdded",
    "RadarrMovieDelete",
    "RadarrMovieFileDelete",
    "RadarrPayload",
    "RadarrRename",
    "RadarrTest",
    "SonarrApplicationUpdate",
    "SonarrDownload",
    "SonarrEpisodeFileDelete",
    "SonarrEvent",
    "SonarrGrab",
    "SonarrHealth",
    "SonarrImportComplete",
    "SonarrManualInteractionRequired",
    "SonarrPayload",
    "SonarrRename",
    "SonarrSeriesAdd",
    "SonarrSeriesDelete",
    "SonarrTest",
    "Source",
    "UnknownEvent",
    "parse_webhook",
]
