"""The ``[library]`` and ``[[mappings]]`` settings: where the media lives, and how the
*arrs' paths translate to relayarr's.

.. code-block:: toml

    [library]
    # database_url = "sqlite:///data/library.db"  # default: SQLite in data_dir
    settle_seconds = 10          # a scan waits this long after the last event for its folder
    reconcile_every = "6h"       # periodic scan of every root; "0" turns it off

    [[library.roots]]
    path = "/srv/media/movies"
    kind = "movies"              # movies | series
    anchors = [".relayarr-anchor"]   # optional: files that exist only while the mount is up

    [[mappings]]                 # a path as an *arr sends it -> the same path as relayarr sees it
    source = "radarr"            # radarr | sonarr | radarr/4k (the instance in the webhook URL)
    from = "/movies"
    to = "/srv/media/movies"

Validation names the key: ``library.roots.0.kind``, ``mappings.1.from``. The models turn
into the services' own values with :meth:`LibrarySettings.library_roots` and
:meth:`MappingSettings.rule`.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from relayarr.durations import parse_duration
from relayarr.errors import DurationError
from relayarr.library.paths import PathRule
from relayarr.library.roots import LibraryRoot, RootKind

# The instance part mirrors the webhook URL's (relayarr.web.routes.webhooks).
_SOURCE = re.compile(r"^(radarr|sonarr)(/[a-z0-9](?:[a-z0-9_-]{0,30}[a-z0-9])?)?$")


def _seconds(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise ValueError(str(exc)) from None
    return value


Duration = Annotated[float, BeforeValidator(_seconds)]
"""Seconds, written as a number or as ``"6h"``, ``"90m"``, ``"1h30m"``."""


class RootSettings(BaseModel):
    """One ``[[library.roots]]`` entry: a folder of movie folders or of series folders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = Field(
        description="absolute folder holding one folder per movie or series",
        examples=["/srv/media/movies"],
    )
    kind: Literal["movies", "series"] = Field(description="movies | series", examples=["movies"])
    anchors: tuple[str, ...] = Field(
        default=(),
        description="files inside the root that exist only while its mount is up",
        examples=[[".relayarr-anchor"]],
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError(f"must be an absolute path, not {str(value)!r}")
        return Path(posixpath.normpath(value))

    @field_validator("anchors")
    @classmethod
    def _inside(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for anchor in value:
            parts = PurePosixPath(anchor).parts
            if not anchor or anchor.startswith("/") or ".." in parts:
                raise ValueError(f"{anchor!r} must be a file name relative to the root")
        return value

    def root(self) -> LibraryRoot:
        """This entry as the library's own value."""
        return LibraryRoot(path=self.path, kind=RootKind(self.kind), anchors=self.anchors)


class LibrarySettings(BaseModel):
    """The ``[library]`` section: its database, scan timing and roots."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = Field(
        default=None,
        min_length=1,
        description="sqlite:///path or postgresql://...; default: SQLite in data_dir",
        examples=["sqlite:///data/library.db"],
    )
    settle_seconds: float = Field(
        default=10.0,
        ge=0,
        description="a scan waits this long after the last event for its folder",
    )
    reconcile_every: Duration = Field(
        default=6 * 3600.0,
        ge=0,
        description='periodic scan of every root ("6h", "90m", "1h30m"); "0" turns it off',
        examples=["6h"],
    )
    mount_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        description="how often work for a root whose mount is down looks again",
    )
    roots: tuple[RootSettings, ...] = Field(
        default=(), description="folders holding the media, one [[library.roots]] each"
    )

    @field_validator("roots")
    @classmethod
    def _apart(cls, value: tuple[RootSettings, ...]) -> tuple[RootSettings, ...]:
        # Each folder must belong to exactly one root, or a scan would not know its kind.
        for j, later in enumerate(value):
            for i, earlier in enumerate(value[:j]):
                a, b = earlier.path, later.path
                if a.is_relative_to(b) or b.is_relative_to(a):
                    raise ValueError(
                        f"roots.{i}.path ({a}) and roots.{j}.path ({b}) overlap; "
                        "a root must not lie inside another"
                    )
        return value

    def library_roots(self) -> tuple[LibraryRoot, ...]:
        """The configured roots as the library's own values."""
        return tuple(entry.root() for entry in self.roots)


class MappingSettings(BaseModel):
    """One ``[[mappings]]`` entry: a path prefix as an *arr sends it, and the same place as
    relayarr sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = Field(
        default=None,
        description="radarr | sonarr | radarr/4k (the webhook URL's instance); "
        "leave out to apply to every source",
        examples=["radarr"],
    )
    from_path: str = Field(
        validation_alias="from",
        min_length=1,
        description="the path as the *arr sends it (POSIX, Windows drive or UNC)",
        examples=["/movies"],
    )
    to_path: str = Field(
        validation_alias="to",
        min_length=1,
        description="the same place as relayarr sees it (or a URL such as nfs://nas/movies)",
        examples=["/srv/media/movies"],
    )
    case_insensitive: bool = Field(
        default=False, description="match `from` ignoring case (Windows shares)"
    )

    @field_validator("source", mode="before")
    @classmethod
    def _known_source(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if not _SOURCE.match(value):
                raise ValueError(
                    f"{value!r} is not a source: radarr, sonarr or radarr/<instance> "
                    "(1-32 of a-z 0-9 _ -)"
                )
        return value

    @field_validator("from_path", "to_path")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    def rule(self) -> PathRule:
        """This entry as a rule of the path mapper."""
        return PathRule(
            from_path=self.from_path,
            to_path=self.to_path,
            source=self.source,
            case_insensitive=self.case_insensitive,
        )


__all__ = ["Duration", "LibrarySettings", "MappingSettings", "RootSettings"]
