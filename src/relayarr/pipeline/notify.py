"""What the players are told: :class:`Change`, and the ``notify-players`` job.

A change names the local folder (and file) that was added, changed or removed; the
notifiers map it to each player's own view of the library. Until players are configured
the handler records what it would have told, so the chain of a webhook is visible end to
end from the first day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from relayarr.arr.common import MediaIds
from relayarr.arr.media import MediaEvent, MediaKind
from relayarr.jobqueue import Job, JobSpec, JSONObject, JSONValue, PermanentFailure
from relayarr.pipeline.context import PipelineContext
from relayarr.pipeline.jobs import NOTIFY_PLAYERS

NO_PLAYERS = "no players configured ([[players]]): recorded what would be told"


class ChangeAction(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a player should learn: ``action`` on ``folder`` (and ``file``, when one
    file is concerned); ``kind`` is movie or series; ``removed`` lists files gone from
    the folder in the same change (an upgrade's old file, a rename's old name)."""

    action: ChangeAction
    kind: MediaKind
    folder: str
    file: str | None = None
    removed: tuple[str, ...] = ()
    title: str | None = None
    year: int | None = None
    ids: MediaIds = field(default_factory=MediaIds)

    @classmethod
    def of(cls, event: MediaEvent, action: ChangeAction, folder: Path, file: Path | None) -> Change:
        return cls(
            action=action,
            kind=event.kind or MediaKind.MOVIE,
            folder=str(folder),
            file=str(file) if file is not None else None,
            title=event.title,
            year=event.year,
            ids=event.ids,
        )

    def to_json(self) -> JSONObject:
        data: dict[str, JSONValue] = {
            "action": self.action.value,
            "kind": self.kind.value,
            "folder": self.folder,
            "file": self.file,
            "removed": list(self.removed),
            "title": self.title,
            "year": self.year,
            "ids": self.ids.as_json(),
        }
        return {key: value for key, value in data.items() if value not in (None, [], {})}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Change:
        ids = data.get("ids") or {}
        removed = data.get("removed") or []
        if not isinstance(ids, Mapping) or not isinstance(removed, list):
            raise ValueError("ids must be an object and removed a list")
        file, title, year = data.get("file"), data.get("title"), data.get("year")
        imdb = ids.get("imdb")
        return cls(
            action=ChangeAction(str(data["action"])),
            kind=MediaKind(str(data["kind"])),
            folder=str(data["folder"]),
            file=file if isinstance(file, str) else None,
            removed=tuple(str(path) for path in removed),
            title=title if isinstance(title, str) else None,
            year=year if isinstance(year, int) else None,
            ids=MediaIds(
                tmdb=_int(ids.get("tmdb")),
                imdb=imdb if isinstance(imdb, str) else None,
                tvdb=_int(ids.get("tvdb")),
            ),
        )


def notify_spec(changes: Sequence[Change]) -> JobSpec | None:
    """The follow-up that tells the players about ``changes`` (None when there are none)."""
    if not changes:
        return None
    return JobSpec(NOTIFY_PLAYERS, {"changes": [change.to_json() for change in changes]})


async def add_notify(
    ctx: PipelineContext, changes: Sequence[Change], *, parent_id: int
) -> Job | None:
    """Add a ``notify-players`` job for ``changes`` now (None when there are none)."""
    spec = notify_spec(changes)
    if spec is None:
        return None
    return await ctx.queue.add_job(spec.type, spec.payload, parent_id=parent_id)


def read_changes(payload: Mapping[str, object]) -> list[Change]:
    """The changes of a ``notify-players`` payload; a malformed one fails for good."""
    raw = payload.get("changes")
    if not isinstance(raw, list):
        raise PermanentFailure("notify-players payload has no 'changes' list")
    try:
        return [Change.from_json(item) for item in _objects(raw)]
    except (KeyError, ValueError) as exc:
        raise PermanentFailure(f"malformed change in notify-players payload: {exc}") from exc


async def handle_notify_players(ctx: PipelineContext, job: Job) -> JSONValue:
    """Tell every player group about the job's changes; today, record them."""
    changes = read_changes(job.payload)
    return {
        "note": NO_PLAYERS,
        "would_tell": [change.to_json() for change in changes],
    }


def _objects(items: Iterable[object]) -> list[Mapping[str, object]]:
    return [item for item in items if isinstance(item, Mapping)]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = [
    "NO_PLAYERS",
    "Change",
    "ChangeAction",
    "add_notify",
    "handle_notify_players",
    "notify_spec",
    "read_changes",
]
