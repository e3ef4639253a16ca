"""The payload ``enrich`` and ``publish`` carry: one item, what to publish of it, and the
``notify-players`` jobs waiting at the end of the chain.

::

    {"kind": "movie", "item_id": 412, "folder": "/srv/media/movies/Arrival (2016)",
     "video": "Arrival (2016).mkv", "episodes": [], "replaced": ["/srv/.../old.mkv"],
     "event": {...the webhook's media event...}, "notify": [{...notify payload...}],
     "refresh": false, "reason": "scan"}

``video`` is relative to ``folder`` (a movie's main video); ``episodes`` name a series'
episode files to publish (relative to the series folder); ``replaced`` the absolute paths
of videos this scan saw go (an upgrade's old file), whose NFO and artwork are cleaned up.
``refresh`` asks ``publish`` to tell the players the item changed when it changed a file
(after an edit, or an enrichment that succeeded late), on top of ``notify``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import cast

from relayarr.arr.media import MediaEvent
from relayarr.jobqueue import JSONObject, JSONValue, PermanentFailure
from relayarr.library.db.records import ItemKind


class MetadataReason(StrEnum):
    """Why an item's metadata is enriched or published."""

    SCAN = "scan"  # a scan found the item new or changed
    EDIT = "edit"  # the user changed fields or locks
    RETRY = "retry"  # an enrichment that failed for a while, tried again on its own


@dataclass(frozen=True, slots=True)
class EpisodeTarget:
    """An episode file of a series: its season, its episode numbers (several for a
    multi-episode file; the first names it) and its path relative to the series folder."""

    season: int
    episodes: tuple[int, ...]
    video: str

    @property
    def episode(self) -> int:
        return self.episodes[0]


@dataclass(frozen=True, slots=True)
class MetadataJob:
    """The payload of ``enrich`` and ``publish`` (see the module docstring)."""

    kind: ItemKind
    item_id: int
    folder: str
    reason: MetadataReason = MetadataReason.SCAN
    video: str | None = None
    episodes: tuple[EpisodeTarget, ...] = ()
    replaced: tuple[str, ...] = ()
    event: MediaEvent | None = None
    notify: tuple[JSONObject, ...] = ()
    refresh: bool = False

    def retry(self) -> MetadataJob:
        """This item, to enrich again later on its own: the players were told already, so
        only a publish that changes something tells them again."""
        return replace(self, reason=MetadataReason.RETRY, notify=(), refresh=True, replaced=())

    def to_json(self) -> JSONObject:
        data: dict[str, JSONValue] = {
            "kind": self.kind.value,
            "item_id": self.item_id,
            "folder": self.folder,
            "reason": self.reason.value,
            "video": self.video,
            "episodes": [
                {"season": e.season, "episodes": list(e.episodes), "video": e.video}
                for e in self.episodes
            ],
            "replaced": list(self.replaced),
            "event": self.event.to_json() if self.event is not None else None,
            "notify": list(self.notify),
            "refresh": self.refresh,
        }
        return data

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> MetadataJob:
        """Read a job payload; a malformed one fails the job for good."""
        try:
            item_id = payload["item_id"]
            folder = payload["folder"]
            if not isinstance(item_id, int) or isinstance(item_id, bool) or item_id < 1:
                raise ValueError("'item_id' must be a positive integer")
            if not isinstance(folder, str) or not folder:
                raise ValueError("'folder' must be a non-empty string")
            video = payload.get("video")
            event = payload.get("event")
            return cls(
                kind=ItemKind(str(payload["kind"])),
                item_id=item_id,
                folder=folder,
                reason=MetadataReason(str(payload.get("reason", MetadataReason.SCAN))),
                video=video if isinstance(video, str) and video else None,
                episodes=tuple(_episode(e) for e in _list(payload.get("episodes"))),
                replaced=tuple(str(p) for p in _list(payload.get("replaced"))),
                event=MediaEvent.from_json(event) if isinstance(event, Mapping) else None,
                notify=tuple(_object(n) for n in _list(payload.get("notify"))),
                refresh=bool(payload.get("refresh")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise PermanentFailure(f"malformed metadata job payload: {exc}") from exc


def _list(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


def _episode(value: object) -> EpisodeTarget:
    if not isinstance(value, Mapping):
        raise ValueError("an episode must be an object")
    numbers = tuple(_int(n) for n in _list(value.get("episodes")))
    if not numbers:
        raise ValueError("an episode needs its numbers")
    return EpisodeTarget(_int(value.get("season")), numbers, str(value["video"]))


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a number, got {value!r}")
    return value


def _object(value: object) -> JSONObject:
    if not isinstance(value, dict):
        raise ValueError("a notify payload must be an object")
    return cast(JSONObject, value)


__all__ = ["EpisodeTarget", "MetadataJob", "MetadataReason"]
