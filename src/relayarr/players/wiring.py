"""Where a player's path mapping comes from: its ``[[players.mappings]]`` rules, read by the
library's path mapper (longest match on whole components; POSIX, Windows and URL
targets), so relayarr maps paths one way everywhere.
"""

from __future__ import annotations

from relayarr.errors import NoPathMapping, PlayerPathError
from relayarr.library.paths import PathMapper, PathRule
from relayarr.players.notifier import ToPlayer
from relayarr.players.settings import PlayerSettings


def to_player_for(player: PlayerSettings) -> ToPlayer:
    """The local-path-to-player-path function of ``player``: its mappings, or the path as
    it is when it has none (it sees the library where relayarr does)."""
    if not player.mappings:
        return _same_path
    mapper = PathMapper(PathRule(m.local, m.player) for m in player.mappings)

    def to_player(path: str) -> str:
        try:
            return mapper.map(path).path
        except NoPathMapping as exc:
            raise PlayerPathError(player.name, path, str(exc)) from exc

    return to_player


def _same_path(path: str) -> str:
    return path


def library_roots(settings: object) -> list[str] | None:
    """The local library roots to check against each player's libraries: the paths of
    ``[[library.roots]]``, or None when none is configured (nothing to check)."""
    library = getattr(settings, "library", None)
    roots = getattr(library, "roots", None)
    if not roots:
        return None
    return [str(getattr(root, "path", root)) for root in roots]


__all__ = ["library_roots", "to_player_for"]
