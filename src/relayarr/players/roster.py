"""The configured players, built once: one notifier each, and the dispatcher over them.

>>> roster = Roster(settings.players, settings.groups, to_player_for)  # doctest: +SKIP
>>> record = await roster.dispatcher.dispatch(change, done=previous.done)  # doctest: +SKIP
>>> await roster.aclose()  # doctest: +SKIP

``to_player_for(player)`` gives the function that maps a local path into that player's
view (built from its ``[[players.mappings]]``); the composition root supplies it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from relayarr.players.emby import EmbyNotifier
from relayarr.players.groups import Dispatcher
from relayarr.players.health import Clock
from relayarr.players.jellyfin import JellyfinNotifier
from relayarr.players.kodi import KodiNotifier
from relayarr.players.notifier import Notifier, ToPlayer
from relayarr.players.plex import PlexNotifier
from relayarr.players.settings import GroupSettings, PlayerSettings, PlayersSection, PlayerType

ToPlayerFactory = Callable[[PlayerSettings], ToPlayer]

_NOTIFIERS: Mapping[PlayerType, Callable[[PlayerSettings, ToPlayer], Notifier]] = {
    PlayerType.KODI: KodiNotifier,
    PlayerType.JELLYFIN: JellyfinNotifier,
    PlayerType.EMBY: EmbyNotifier,
    PlayerType.PLEX: PlexNotifier,
}


def make_notifier(settings: PlayerSettings, to_player: ToPlayer) -> Notifier:
    """The notifier for one configured player."""
    return _NOTIFIERS[settings.type](settings, to_player)


class Roster:
    """Every configured player: its settings, its path mapping, its notifier, the dispatcher."""

    def __init__(
        self,
        players: Sequence[PlayerSettings],
        groups: Mapping[str, GroupSettings],
        to_player_for: ToPlayerFactory,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.section = PlayersSection(players=tuple(players), groups=dict(groups))
        self.players = {player.name: player for player in self.section.players}
        self.to_player = {name: to_player_for(player) for name, player in self.players.items()}
        notifiers = [make_notifier(p, self.to_player[p.name]) for p in self.section.players]
        self.dispatcher = Dispatcher(notifiers, self.section, clock=clock)

    def notifier(self, name: str) -> Notifier:
        """The notifier of player ``name``."""
        return self.dispatcher.notifier(name)

    async def aclose(self) -> None:
        """Close every notifier (after the notifications running now)."""
        await self.dispatcher.aclose()


__all__ = ["Roster", "ToPlayerFactory", "make_notifier"]
