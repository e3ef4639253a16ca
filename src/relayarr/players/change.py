"""The media change the notifiers act on: what happened to which movie or episode, where.

It travels in a ``notify-players`` job's payload, so it turns into JSON and back
(:meth:`MediaChange.to_json`, :meth:`MediaChange.from_json`). Paths are local (as relayarr
sees them); each notifier maps them into its player's view.

>>> change = MediaChange(Action.ADDED, Kind.MOVIE, "/srv/movies/Arrival (2016)",
...                      "/srv/movies/Arrival (2016)/Arrival (2016).mkv", "Arrival", 2016)
>>> MediaChange.from_json(change.to_json()) == change
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from relayarr.errors import ChangeInvalid
from relayarr.jobqueue import JSONObject
from relayarr.players.pathforms import contains

E = TypeVar("E", bound=StrEnum)


class Action(StrEnum):
    """What happened to the media."""

    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


class Kind(StrEnum):
    """What the media is."""

    MOVIE = "movie"
    EPISODE = "episode"


@dataclass(frozen=True, slots=True)
class MediaIds:
    """The ids the *arr apps know the media by (any may be missing)."""

    tmdb: int | None = None
    imdb: str | None = None
    tvdb: int | None = None


@dataclass(frozen=True, slots=True)
class MediaChange:
    """One change to the library.

    ``folder`` is the folder to scan: the movie's folder, or the series folder for an
    episode (where ``tvshow.nfo`` lives). ``file`` is the video file inside it, or None for
    a change to the whole folder (a folder deleted, say). ``season``/``episode`` are set
    for episodes.
    """

    action: Action
    kind: Kind
    folder: str
    file: str | None
    title: str
    year: int | None = None
    ids: MediaIds = field(default_factory=MediaIds)
    season: int | None = None
    episode: int | None = None

    def __post_init__(self) -> None:
        if not self.folder:
            raise ChangeInvalid("folder: must not be empty")
        if self.file is not None and not contains(self.folder, self.file):
            raise ChangeInvalid(f"file: {self.file!r} is not inside folder {self.folder!r}")

    @property
    def path(self) -> str:
        """The most precise local path: the file, or the folder when there is none."""
        return self.file if self.file is not None else self.folder

    def to_json(self) -> JSONObject:
        """A JSON object for a job payload (every field; None for missing ones)."""
        return {
            "action": self.action.value,
            "kind": self.kind.value,
            "folder": self.folder,
            "file": self.file,
            "title": self.title,
            "year": self.year,
            "ids": {"tmdb": self.ids.tmdb, "imdb": self.ids.imdb, "tvdb": self.ids.tvdb},
            "season": self.season,
            "episode": self.episode,
        }

    @classmethod
    def from_json(cls, data: object) -> MediaChange:
        """Read :meth:`to_json`'s output back; raises :class:`ChangeInvalid` naming the field."""
        if not isinstance(data, Mapping):
            raise ChangeInvalid("change: must be a JSON object")
        ids = data.get("ids")
        if ids is None:
            ids = {}
        if not isinstance(ids, Mapping):
            raise ChangeInvalid("ids: must be a JSON object")
        return cls(
            action=_enum(Action, data, "action"),
            kind=_enum(Kind, data, "kind"),
            folder=_text(data, "folder"),
            file=_optional_text(data, "file"),
            title=_text(data, "title", empty=True),
            year=_optional_int(data, "year"),
            ids=MediaIds(
                tmdb=_optional_int(ids, "tmdb", prefix="ids."),
                imdb=_optional_text(ids, "imdb", prefix="ids."),
                tvdb=_optional_int(ids, "tvdb", prefix="ids."),
            ),
            season=_optional_int(data, "season"),
            episode=_optional_int(data, "episode"),
        )


def _enum(kind: type[E], data: Mapping[str, object], key: str) -> E:
    value = data.get(key)
    try:
        return kind(value if isinstance(value, str) else repr(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ChangeInvalid(f"{key}: must be one of {allowed}, got {value!r}") from None


def _text(data: Mapping[str, object], key: str, *, empty: bool = False) -> str:
    value = data.get(key)
    if not isinstance(value, str) or (not value and not empty):
        raise ChangeInvalid(f"{key}: must be a {'' if empty else 'non-empty '}string")
    return value


def _optional_text(data: Mapping[str, object], key: str, *, prefix: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ChangeInvalid(f"{prefix}{key}: must be a non-empty string or null")
    return value


def _optional_int(data: Mapping[str, object], key: str, *, prefix: str = "") -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ChangeInvalid(f"{prefix}{key}: must be an integer or null")
    return value


__all__ = ["Action", "ChangeInvalid", "Kind", "MediaChange", "MediaIds"]
