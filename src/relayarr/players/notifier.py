"""What every player notifier does, and the values it answers with.

A notifier tells one player about changes, through one HTTP client it owns. It raises
:class:`~relayarr.errors.PlayerError` when the player cannot be told at all (down,
refusing the credentials, answering garbage, or a path outside its libraries) and
returns a :class:`Delivery` per change otherwise. Deciding *whether* to tell a player
(groups, playback, breakers, retries) is :mod:`relayarr.players.groups`' job, not its.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from relayarr.players.change import MediaChange
from relayarr.players.settings import PlayerType

ToPlayer = Callable[[str], str]
"""Turns a local path into the player's view of it; raises
:class:`~relayarr.errors.PlayerPathError` for a path that maps into none of its libraries."""


class Outcome(StrEnum):
    """How telling one player about one change ended."""

    OK = "ok"
    DEFERRED = "deferred"  # a video plays there: try again later
    SKIPPED = "skipped"  # a video plays there and the group says skip: not told, on purpose
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a notifier did for one change: ``OK`` or ``FAILED``, with a message for people."""

    outcome: Outcome
    message: str


@dataclass(frozen=True, slots=True)
class Library:
    """A library as a player sees it: a Kodi source, a Plex section, a Jellyfin/Emby
    virtual folder; ``paths`` in the player's own form."""

    name: str
    paths: tuple[str, ...]
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class PlayerInfo:
    """What :meth:`Notifier.check` found: the player's version and its libraries."""

    version: str
    libraries: tuple[Library, ...]


class Notifier(Protocol):
    """Tells one player about media changes.

    ``notify`` takes changes that share one action and one folder (the dispatcher batches
    them so), and answers one :class:`Delivery` per change, in order.
    """

    @property
    def name(self) -> str:
        """The player's configured name."""
        ...

    @property
    def kind(self) -> PlayerType:
        """Which kind of player this is."""
        ...

    @property
    def cleans_library(self) -> bool:
        """True when a removal runs a library clean (Kodi), which never runs during playback."""
        ...

    async def check(self) -> PlayerInfo:
        """Reach the player, log in, and read its version and libraries."""
        ...

    async def is_playing(self) -> bool:
        """True while a video plays (or is paused) on the player."""
        ...

    async def notify(self, changes: Sequence[MediaChange]) -> Sequence[Delivery]:
        """Tell the player about ``changes`` (one action, one folder); one delivery each."""
        ...

    async def aclose(self) -> None:
        """Close the notifier's HTTP client."""
        ...


__all__ = ["Delivery", "Library", "Notifier", "Outcome", "PlayerInfo", "ToPlayer"]
