"""What a publish asked for and what it did, file by file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, TypeVar

from relayarr.errors import PublishError
from relayarr.jobqueue.models import JSONValue
from relayarr.metadata.models import AnyMetadata
from relayarr.metadata.stores import ItemRef

M = TypeVar("M", bound=AnyMetadata)

Action = Literal["written", "unchanged", "restored", "moved", "removed", "kept", "failed"]


@dataclass(frozen=True, slots=True)
class PublishRequest(Generic[M]):
    """One item to publish.

    ``folder`` is the item's folder (movie folder, series folder, or the folder of an
    episode's file); ``video`` the movie or episode file in it (None for a series);
    ``provider`` and ``webhook`` the two sources of metadata (either may be None);
    ``replaced`` the video files this one replaced (an upgrade's ``deletedFiles``, a
    rename's previous paths), whose NFO and artwork are cleaned up.
    """

    item: ItemRef
    kind: type[M]
    folder: Path
    video: Path | None = None
    provider: M | None = None
    webhook: M | None = None
    replaced: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file; ``detail`` says why when it was kept or failed."""

    name: str
    action: Action
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PublishResult:
    """Every file touched or considered, the errors, and the hand edits found."""

    files: tuple[FileOutcome, ...] = ()
    errors: tuple[PublishError, ...] = ()
    edited: frozenset[str] = frozenset()
    metadata: AnyMetadata | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def names(self, action: Action) -> list[str]:
        return [f.name for f in self.files if f.action == action]

    def summary(self) -> dict[str, JSONValue]:
        """A short JSON view for the job's result."""
        files: dict[str, JSONValue] = {}
        for action in dict.fromkeys(outcome.action for outcome in self.files):
            files[action] = [f.name for f in self.files if f.action == action]
        edited: list[JSONValue] = [*sorted(self.edited)]
        return {
            "title": getattr(self.metadata, "title", None) or None,
            "files": files,
            "edited": edited,
            "errors": [str(e) for e in self.errors],
        }


__all__ = ["Action", "FileOutcome", "PublishRequest", "PublishResult"]
