"""Season folders and episode numbers read from names, as Sonarr writes them and as
players read them.

>>> episode_numbers("Severance - S02E03 - Who Is Alive.mkv")
EpisodeNumbers(season=2, episodes=(3,))
>>> episode_numbers("Show - S01E01-E03.mkv").episodes
(1, 2, 3)
>>> season_folder("Specials"), season_folder("Season 02")
(0, 2)

Multi-episode files in each of Sonarr's styles: ``S01E01E02`` (repeat), ``S01E01-E02``
(prefixed range, scene), ``S01E01-02`` (range, extend), ``S01E01.S01E02`` (duplicate),
``1x01x02`` and ``1x01-02``. A hyphen between two numbers means the range between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A range is capped: S01E01-9999 is a typo or a title, not 9,999 episodes in one file.
MAX_RANGE = 50

_SXXEYY = re.compile(
    r"(?<![a-z0-9])s(\d{1,4})[\s._-]*e(\d{1,4})((?:(?:[\s._-]*-?[\s._-]*e|-)\d{1,4}"
    r"|[\s._-]*s\d{1,4}[\s._-]*e\d{1,4})*)(?![0-9])",
    re.IGNORECASE,
)
_NXNN = re.compile(r"(?<![0-9a-z])(\d{1,2})x(\d{2,3})((?:(?:x|-)\d{2,3})*)(?![0-9])", re.IGNORECASE)
_FOLLOWING = re.compile(r"(-?)[\s._-]*(?:s\d{1,4}[\s._-]*)?[ex]?(\d{1,4})", re.IGNORECASE)
_BARE_EPISODE = re.compile(
    r"(?:^|[\s._-])(?:e|ep|episode)[\s._-]?(\d{1,3})(?![0-9])", re.IGNORECASE
)
_SEASON_FOLDER = re.compile(
    r"^(?:season|series|saison|staffel|temporada|stagione|s)[\s._-]*(\d{1,4})(?:\D.*)?$",
    re.IGNORECASE,
)
_SPECIALS = frozenset({"specials", "special", "extras-specials"})


@dataclass(frozen=True, slots=True)
class EpisodeNumbers:
    """A season and the episodes (one, or several for a multi-episode file) a name holds."""

    season: int
    episodes: tuple[int, ...]


def episode_numbers(name: str, folder_season: int | None = None) -> EpisodeNumbers | None:
    """The season and episodes in a file name, or ``None`` when it has none.

    ``folder_season`` (from the season folder holding the file) lets a bare ``E05`` or
    ``Episode 5`` count; a full ``S01E05`` in the name wins over the folder.
    """
    if match := _SXXEYY.search(name):
        season, first, rest = match.groups()
        return EpisodeNumbers(int(season), _expand(int(first), rest))
    if match := _NXNN.search(name):
        season, first, rest = match.groups()
        return EpisodeNumbers(int(season), _expand(int(first), rest))
    if folder_season is not None and (match := _BARE_EPISODE.search(name)):
        return EpisodeNumbers(folder_season, (int(match.group(1)),))
    return None


def _expand(first: int, rest: str) -> tuple[int, ...]:
    numbers = [first]
    for dash, number in _FOLLOWING.findall(rest):
        value = int(number)
        previous = numbers[-1]
        if not dash:
            numbers.append(value)
        elif previous < value <= previous + MAX_RANGE:
            numbers.extend(range(previous + 1, value + 1))
        # Any other "-<number>" is part of the title or a resolution, not an episode.
    return tuple(sorted(set(numbers)))


def season_folder(name: str) -> int | None:
    """The season a folder holds: ``Season 01`` -> 1, ``S2`` -> 2, ``Specials`` -> 0;
    ``None`` for any other folder."""
    if name.casefold() in _SPECIALS:
        return 0
    match = _SEASON_FOLDER.match(name.strip())
    return int(match.group(1)) if match else None


__all__ = ["MAX_RANGE", "EpisodeNumbers", "episode_numbers", "season_folder"]
