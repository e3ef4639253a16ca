"""Where a player's path mapping and the library roots come from: the seams the
composition root fills.

Mapping a local path into a player's view (``[[players.mappings]]``: longest match on
whole components, POSIX, Windows and URL targets) is the library's path mapper
(``relayarr.library.paths``). Until it is wired here, :func:`to_player_for` serves the
players that need no mapping (they see the same paths as relayarr) and refuses, with a
clear error, the paths of players that have mappings.
"""

from __future__ import annotations

from relayarr.errors import PlayerPathError
from relayarr.players.notifier import ToPlayer
from relayarr.players.settings import PlayerSettings


def to_player_for(player: PlayerSettings) -> ToPlayer:
    """The local-path-to-player-path function of ``player``."""
    if not player.mappings:
        return _same_path

    def unmapped(path: str) -> str:
        raise PlayerPathError(
            player.name, path, "[[players.mappings]] needs the library's path mapper"
        )

    return unmapped


def _same_path(path: str) -> str:
    return path


def library_roots(settings: object) -> list[str] | None:
    """The local library roots to check against each player's libraries: ``roots`` of the
    ``[library]`` section when the settings have one, else None (nothing to check)."""
    library = getattr(settings, "library", None)
    roots = getattr(library, "roots", None)
    if roots is None:
        return None
    return [str(root) for root in roots]


__all__ = ["library_roots", "to_player_for"]
