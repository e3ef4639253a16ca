"""Jellyfin: the MediaBrowser family, authenticated with ``Authorization: MediaBrowser Token``.

That header is the form every Jellyfin from 10.8 on reads unconditionally; the legacy
``X-Emby-Token`` is off by default from Jellyfin 12. Paths carry no prefix
(``/Library/Media/Updated``, ``/Items``, ``/Sessions``, ``/System/Info``).
"""

from __future__ import annotations

from collections.abc import Mapping

from relayarr.players.mediabrowser import MediaBrowserNotifier
from relayarr.players.settings import PlayerType


class JellyfinNotifier(MediaBrowserNotifier):
    """Tells one Jellyfin server about changes (see :mod:`relayarr.players.mediabrowser`)."""

    kind = PlayerType.JELLYFIN
    prefix = ""

    @staticmethod
    def auth_headers(token: str) -> Mapping[str, str]:
        return {"Authorization": f'MediaBrowser Token="{token}"'}


__all__ = ["JellyfinNotifier"]
