"""Telling media players (Kodi, Jellyfin, Emby, Plex) about changes to the library.

* :mod:`~relayarr.players.settings`: the ``[[players]]`` and ``[groups.NAME]`` settings.
* :mod:`~relayarr.players.change`: :class:`MediaChange`, what the notifiers act on.
* :mod:`~relayarr.players.notifier`: the :class:`Notifier` protocol and its values; one
  module per player (``kodi``, ``jellyfin``, ``emby``, ``plex``) implements it on httpx.
* :mod:`~relayarr.players.groups`: the :class:`~relayarr.players.groups.Dispatcher`
  (groups, playback, breakers, per-player bookkeeping); :mod:`~relayarr.players.roster`
  builds it from the settings; :mod:`~relayarr.players.report` checks every player.

This module imports no HTTP client, so the settings can load without one.
"""

from relayarr.players.change import Action, Kind, MediaChange, MediaIds
from relayarr.players.notifier import Delivery, Library, Notifier, Outcome, PlayerInfo, ToPlayer
from relayarr.players.record import DispatchRecord, TargetResult
from relayarr.players.settings import (
    DuringPlayback,
    GroupMode,
    GroupSettings,
    PathMapping,
    PlayerSettings,
    PlayersSection,
    PlayerType,
)

__all__ = [
    "Action",
    "Delivery",
    "DispatchRecord",
    "DuringPlayback",
    "GroupMode",
    "GroupSettings",
    "Kind",
    "Library",
    "MediaChange",
    "MediaIds",
    "Notifier",
    "Outcome",
    "PathMapping",
    "PlayerInfo",
    "PlayerSettings",
    "PlayerType",
    "PlayersSection",
    "TargetResult",
    "ToPlayer",
]
