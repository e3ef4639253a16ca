"""Emby: the MediaBrowser family, authenticated with ``X-Emby-Token``, under ``/emby``.

Emby serves its API both with and without the ``/emby`` prefix; the prefixed form is the
one its own clients use and works behind the usual reverse-proxy set-ups too.
"""

from __future__ import annotations

from collections.abc import Mapping

from relayarr.players.mediabrowser import MediaBrowserNotifier
from relayarr.players.settings import PlayerType


class EmbyNotifier(MediaBrowserNotifier):
    """Tells one Emby server about changes (see :mod:`relayarr.players.mediabrowser`)."""

    kind = PlayerType.EMBY
    prefix = "/emby"

    @staticmethod
    def auth_headers(token: str) -> Mapping[str, str]:
        return {"X-Emby-Token": token}


__all__ = ["EmbyNotifier"]
