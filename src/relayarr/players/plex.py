"""Plex: a partial scan of the changed folder in the section(s) that hold it.

Every request carries ``X-Plex-Token`` and ``Accept: application/json``. The sections
(``GET /library/sections``: ``MediaContainer.Directory[]`` with ``key``, ``title``,
``type`` and ``Location[].path``) are cached and read again when a folder matches none.
A folder belongs to the section(s) whose location holds it with the longest
whole-component match, and ``GET /library/sections/{key}/refresh?path=<folder>`` asks
for a scan of exactly that folder. For a removal the scan goes to the folder's parent,
since the folder itself may be gone and Plex skips a path it cannot list. Plex queues
the scan and reports no completion, so there is nothing to verify.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relayarr.errors import PlayerPathError
from relayarr.players.change import Action, MediaChange
from relayarr.players.http import PlayerHttp, Shape
from relayarr.players.notifier import Delivery, Library, Outcome, PlayerInfo, ToPlayer
from relayarr.players.pathforms import components, contains, parent
from relayarr.players.settings import PlayerSettings, PlayerType

VIDEO_TYPES = frozenset({"movie", "episode", "clip", "video"})


@dataclass(frozen=True, slots=True)
class Section:
    """A Plex library section: its key, title, type and locations."""

    key: str
    title: str
    type: str
    locations: tuple[str, ...]


class PlexNotifier:
    """Tells one Plex Media Server about changes."""

    kind = PlayerType.PLEX
    cleans_library = False

    def __init__(self, settings: PlayerSettings, to_player: ToPlayer) -> None:
        assert settings.token is not None
        self.name = settings.name
        self._to_player = to_player
        self._http = PlayerHttp(
            settings.name,
            settings.url,
            timeout=settings.timeout,
            max_requests=settings.max_requests,
            headers={
                "X-Plex-Token": settings.token.get_secret_value(),
                "Accept": "application/json",
                "X-Plex-Product": "relayarr",
                "X-Plex-Client-Identifier": "relayarr",
            },
        )
        self._shape = Shape(settings.name)
        self._sections: tuple[Section, ...] | None = None

    async def check(self) -> PlayerInfo:
        root = self._container(await self._http.get_json("/"), "/")
        version = self._shape.text(root, "version", "/")
        name = root.get("friendlyName")
        self._sections = await self._read_sections()
        libraries = tuple(
            Library(name=section.title, paths=section.locations, kind=section.type)
            for section in self._sections
        )
        label = f"Plex {version}"
        return PlayerInfo(
            version=f"{label} ({name})" if isinstance(name, str) else label, libraries=libraries
        )

    async def is_playing(self) -> bool:
        where = "/status/sessions"
        container = self._container(await self._http.get_json(where), where)
        for entry in self._shape.array(container.get("Metadata", []), where):
            if isinstance(entry, dict) and entry.get("type") in VIDEO_TYPES:
                return True
        return False

    async def aclose(self) -> None:
        await self._http.aclose()

    async def notify(self, changes: Sequence[MediaChange]) -> Sequence[Delivery]:
        first = changes[0]
        folder = self._to_player(first.folder)
        sections, location = await self._sections_for(folder)
        target = folder
        if first.action is Action.REMOVED and components(folder) != components(location):
            target = parent(folder)
        for section in sections:
            await self._http.request(
                "GET", f"/library/sections/{section.key}/refresh", params={"path": target}
            )
        names = ", ".join(f"{section.title!r} ({section.key})" for section in sections)
        message = f"asked section {names} to scan {target!r}"
        return [Delivery(Outcome.OK, message) for _ in changes]

    async def _sections_for(self, folder: str) -> tuple[list[Section], str]:
        """The sections whose location holds ``folder`` with the longest match, and that
        location; sections are read again once when none matches."""
        for attempt in range(2):
            if self._sections is None or attempt:
                self._sections = await self._read_sections()
            best = -1
            chosen: list[Section] = []
            location = ""
            for section in self._sections:
                for path in section.locations:
                    if not contains(path, folder):
                        continue
                    depth = len(components(path))
                    if depth > best:
                        best, chosen, location = depth, [section], path
                    elif depth == best and section not in chosen:
                        chosen.append(section)
            if chosen:
                return chosen, location
        known = ", ".join(path for s in self._sections or () for path in s.locations)
        raise PlayerPathError(self.name, folder, f"its section locations: {known or 'none'}")

    async def _read_sections(self) -> tuple[Section, ...]:
        where = "/library/sections"
        container = self._container(await self._http.get_json(where), where)
        sections = []
        for entry in self._shape.array(container.get("Directory", []), where):
            directory = self._shape.obj(entry, where)
            locations = []
            for location in self._shape.array(directory.get("Location", []), where):
                locations.append(self._shape.text(self._shape.obj(location, where), "path", where))
            sections.append(
                Section(
                    key=self._shape.text(directory, "key", where),
                    title=self._shape.text(directory, "title", where),
                    type=self._shape.text(directory, "type", where),
                    locations=tuple(locations),
                )
            )
        return tuple(sections)

    def _container(self, answer: object, where: str) -> dict[str, object]:
        return self._shape.obj(self._shape.obj(answer, where).get("MediaContainer"), where)


__all__ = ["PlexNotifier", "Section"]
