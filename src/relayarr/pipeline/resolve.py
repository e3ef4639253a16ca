"""From the paths an *arr sent to the library item relayarr may touch: map, then guard.

Each step turns its service's error into the job outcome it deserves:

- no mapping rule and not already inside a root, or a path outside every root: the job
  fails for good with the service's message (it names the path, and the rules tried or
  the roots), since no retry can change the configuration;
- a root whose anchor file is missing (its mount is down): the job snoozes and asks again
  later, its attempts untouched, and never tells a player that the library is empty;
- a folder or file the webhook named that does not exist: the job fails naming it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from relayarr.arr.media import MediaEvent
from relayarr.errors import NoPathMapping, OutsideLibrary, RootUnavailable
from relayarr.jobqueue import JSONObject, JSONValue, PermanentFailure, Snooze
from relayarr.library.paths import PathMapper, PathRule
from relayarr.library.roots import LibraryRoot, LibraryRoots, Located


@dataclass(frozen=True, slots=True)
class LocalItem:
    """A library item as relayarr sees it: its root, its folder (the first folder under
    the root: the movie's or the series' folder), the files the event names as present,
    and those it names as gone; ``mapping`` says how the first path was mapped."""

    root: LibraryRoot
    folder: Path
    files: tuple[Path, ...]
    removed: tuple[Path, ...]
    mapping: str


class Resolver:
    """Maps an event's paths with the configured rules and checks them against the roots."""

    def __init__(
        self, mapper: PathMapper, roots: LibraryRoots, *, mount_retry_seconds: float = 60.0
    ) -> None:
        self._mapper = mapper
        self._roots = roots
        self._mount_retry = mount_retry_seconds

    @property
    def rules(self) -> tuple[PathRule, ...]:
        """The configured mapping rules, in their order."""
        return self._mapper.rules

    def item(self, event: MediaEvent, *, must_exist: bool) -> LocalItem:
        """The event's item; with ``must_exist`` its folder and present files must exist.

        Raises PermanentFailure or Snooze as the module docstring says.
        """
        anchor = event.folder or next(iter((*event.files, *event.removed)), None)
        if anchor is None:
            raise PermanentFailure(f"{event.source} {event.event} names no path to act on")
        located, mapping = self._locate(anchor, event.mapping_source)
        self.require_mounted(located.root)
        folder = item_folder(located, is_folder=event.folder is not None)
        files = tuple(self._within(located.root, p, event.mapping_source) for p in event.files)
        removed = tuple(self._within(located.root, p, event.mapping_source) for p in event.removed)
        if must_exist:
            _require_existing((folder, *files), event)
        return LocalItem(located.root, folder, files, removed, mapping)

    def local(self, path: str) -> Located:
        """A path already in relayarr's view (manual scans): inside a root, mounted."""
        located = self._guard(path)
        self.require_mounted(located.root)
        return located

    def explain(self, path: str, source: str) -> JSONObject:
        """How ``path`` from ``source`` maps (every rule tried, the one chosen) and where
        the result lands: the library root holding it, or why none does. For
        ``POST /api/v1/mappings/try`` and the dashboard's mapping tester."""
        trace = self._mapper.explain(path, source)
        answer: dict[str, JSONValue] = dict(trace.to_json())
        candidate = trace.mapped.path if trace.mapped is not None else path
        if trace.mapped is None:
            answer["unmapped_note"] = (
                "without a rule, a path is used as it is only when it already lies inside a"
                " library root"
            )
        try:
            located = self._roots.locate(candidate)
        except OutsideLibrary as exc:
            answer.update(root=None, root_problem=str(exc), usable=False)
        else:
            answer.update(
                root=str(located.root.path),
                item_folder=str(located.item_folder) if located.item_folder else None,
                usable=True,
                root_problem=None,
            )
        return answer

    def require_mounted(self, root: LibraryRoot) -> None:
        try:
            self._roots.require_mounted(root)
        except RootUnavailable as exc:
            raise Snooze(self._mount_retry, str(exc)) from exc

    def _locate(self, path: str, source: str) -> tuple[Located, str]:
        try:
            mapped = self._mapper.map(path, source=source)
        except NoPathMapping as exc:
            # A path the *arr already sends as relayarr sees it needs no rule; anything
            # else without one is a configuration error the user must see.
            try:
                return self._roots.locate(path), "unmapped: already inside a library root"
            except OutsideLibrary:
                raise PermanentFailure(str(exc)) from exc
        return self._guard(mapped.path), mapped.rule.describe()

    def _within(self, root: LibraryRoot, path: str, source: str) -> Path:
        located, _ = self._locate(path, source)
        if located.root != root:
            raise PermanentFailure(
                f"{path} maps into library root {located.root.path}, "
                f"not {root.path} like the rest of the event"
            )
        return located.path

    def _guard(self, path: str) -> Located:
        try:
            return self._roots.locate(path)
        except OutsideLibrary as exc:
            raise PermanentFailure(str(exc)) from exc


def item_folder(located: Located, *, is_folder: bool) -> Path:
    """The item's folder: the first folder under the root (``Movie (2010)``, ``Show``).

    A file lying directly in the root (a flat movie folder) belongs to the root itself;
    but a folder the event names as its item is never taken for a whole root: removing or
    rescanning a root because one item changed would empty or flood the players.
    """
    folder = located.item_folder
    if folder is None:
        if is_folder:
            raise PermanentFailure(
                f"the event names the library root {located.root.path} itself as its item's"
                " folder; refusing to act on a whole root (check the *arr's root folder and"
                " the path mappings)"
            )
        return located.root.path
    if not is_folder and len(located.relative.parts) == 1:
        return located.root.path  # a file directly in the root
    return folder


def _require_existing(paths: Iterable[Path], event: MediaEvent) -> None:
    for path in paths:
        if not os.path.lexists(path):
            raise PermanentFailure(
                f"{path} does not exist (named by the {event.source} {event.event} event"
                f" for {event.title or 'an unnamed item'})"
            )


__all__ = ["LocalItem", "Resolver", "item_folder"]
