"""Jellyfin and Emby, one API family: report the changed paths, then refresh a known item.

``POST {prefix}/Library/Media/Updated`` with ``{"Updates": [{"Path": ..., "UpdateType":
"Created" | "Modified" | "Deleted"}]}`` (answered 204) hands the paths, in the server's
own form, to its library monitor, which refreshes the nearest item it knows after its
monitor delay (Jellyfin: 60 s by default). When the item is already in the library
(``GET {prefix}/Items?Recursive=true&Fields=Path``), the notifier also asks for a refresh
of exactly that item (``POST {prefix}/Items/{id}/Refresh``), which runs at once.
A path outside every library (``GET {prefix}/Library/VirtualFolders``) is refused before
anything is sent. The two servers differ in their auth header and path prefix only:
:mod:`relayarr.players.jellyfin` and :mod:`relayarr.players.emby`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from relayarr.errors import PlayerPathError
from relayarr.players.change import Action, Kind, MediaChange
from relayarr.players.http import PlayerHttp, Shape
from relayarr.players.notifier import Delivery, Library, Outcome, PlayerInfo, ToPlayer
from relayarr.players.pathforms import components, longest_container
from relayarr.players.settings import PlayerSettings, PlayerType

UPDATE_TYPES = {Action.ADDED: "Created", Action.CHANGED: "Modified", Action.REMOVED: "Deleted"}
ITEM_TYPES = {Kind.MOVIE: "Movie", Kind.EPISODE: "Episode"}
PAGE_SIZE = 200
MAX_PAGES = 50  # 10,000 items of one kind and year (or season) is far past any library


class MediaBrowserNotifier:
    """Tells one Jellyfin or Emby server (see the subclasses) about changes."""

    kind: PlayerType
    cleans_library = False
    prefix = ""

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
                **self.auth_headers(settings.token.get_secret_value()),
                "Accept": "application/json",
            },
        )
        self._shape = Shape(settings.name)
        self._libraries: tuple[Library, ...] | None = None

    @staticmethod
    def auth_headers(token: str) -> Mapping[str, str]:
        """The headers that carry the API key (each server has its own)."""
        raise NotImplementedError

    async def check(self) -> PlayerInfo:
        where = f"{self.prefix}/System/Info"
        info = self._shape.obj(await self._http.get_json(where), where)
        version = self._shape.text(info, "Version", where)
        server = info.get("ServerName") if isinstance(info.get("ServerName"), str) else None
        self._libraries = await self._read_libraries()
        label = f"{self.kind.value.capitalize()} {version}"
        return PlayerInfo(
            version=f"{label} ({server})" if server else label, libraries=self._libraries
        )

    async def is_playing(self) -> bool:
        where = f"{self.prefix}/Sessions"
        sessions = self._shape.array(await self._http.get_json(where), where)
        for entry in sessions:
            item = entry.get("NowPlayingItem") if isinstance(entry, dict) else None
            if isinstance(item, dict) and (
                item.get("MediaType") == "Video" or item.get("Type") in ("Movie", "Episode")
            ):
                return True
        return False

    async def aclose(self) -> None:
        await self._http.aclose()

    async def notify(self, changes: Sequence[MediaChange]) -> Sequence[Delivery]:
        paths = [self._to_player(change.path) for change in changes]
        for path in paths:
            await self._library_for(path)
        update_type = UPDATE_TYPES[changes[0].action]
        body = {
            "Updates": [{"Path": path, "UpdateType": update_type} for path in dict.fromkeys(paths)]
        }
        await self._http.request(
            "POST", f"{self.prefix}/Library/Media/Updated", json=body, expect=(200, 204)
        )
        lookups = [
            (change, path)
            for change, path in zip(changes, paths, strict=True)
            if change.action is not Action.REMOVED and change.file is not None
        ]
        found = await self._find_items([c for c, _ in lookups], [p for _, p in lookups])
        refreshed: set[str] = set()
        deliveries = []
        for change, path in zip(changes, paths, strict=True):
            reported = f"reported {path!r} as {update_type}"
            item_id = found.get(path)
            if change.action is Action.REMOVED or change.file is None:
                deliveries.append(Delivery(Outcome.OK, reported))
            elif item_id is None:
                deliveries.append(
                    Delivery(
                        Outcome.OK,
                        f"{reported}; not in the library yet, the server adds it after its "
                        "library monitor delay",
                    )
                )
            else:
                if item_id not in refreshed:
                    refreshed.add(item_id)
                    await self._http.request(
                        "POST",
                        f"{self.prefix}/Items/{item_id}/Refresh",
                        params=self.refresh_params(),
                        expect=(200, 204),
                    )
                deliveries.append(Delivery(Outcome.OK, f"{reported}; refreshed item {item_id}"))
        return deliveries

    def refresh_params(self) -> dict[str, str | int]:
        """Query of the item refresh: a normal refresh that keeps existing metadata."""
        return {
            "MetadataRefreshMode": "Default",
            "ImageRefreshMode": "Default",
            "ReplaceAllMetadata": "false",
            "ReplaceAllImages": "false",
        }

    async def _library_for(self, path: str) -> str:
        for attempt in range(2):
            if self._libraries is None or attempt:
                self._libraries = await self._read_libraries()
            roots = [root for library in self._libraries for root in library.paths]
            found = longest_container(path, roots)
            if found is not None:
                return found
        known = ", ".join(root for library in self._libraries or () for root in library.paths)
        raise PlayerPathError(self.name, path, f"its library folders: {known or 'none'}")

    async def _read_libraries(self) -> tuple[Library, ...]:
        where = f"{self.prefix}/Library/VirtualFolders"
        folders = self._shape.array(await self._http.get_json(where), where)
        libraries = []
        for entry in folders:
            folder = self._shape.obj(entry, where)
            kind = folder.get("CollectionType")
            libraries.append(
                Library(
                    name=self._shape.text(folder, "Name", where),
                    paths=tuple(self._shape.texts(folder, "Locations", where)),
                    kind=kind if isinstance(kind, str) else None,
                )
            )
        return tuple(libraries)

    async def _find_items(
        self, changes: Sequence[MediaChange], paths: Sequence[str]
    ) -> dict[str, str]:
        """The ids of the library items whose Path is one of ``paths`` (one listing for the
        whole batch, narrowed by year or season when the changes share one)."""
        if not changes:
            return {}
        where = f"{self.prefix}/Items"
        first = changes[0]
        params: dict[str, str | int] = {
            "Recursive": "true",
            "IncludeItemTypes": ITEM_TYPES[first.kind],
            "Fields": "Path",
            "Limit": PAGE_SIZE,
        }
        years = {change.year for change in changes}
        seasons = {change.season for change in changes}
        if first.kind is Kind.MOVIE and len(years) == 1 and first.year is not None:
            params["Years"] = first.year
        if first.kind is Kind.EPISODE and len(seasons) == 1 and first.season is not None:
            params["ParentIndexNumber"] = first.season
        wanted = {components(path): path for path in paths}
        found: dict[str, str] = {}
        for page in range(MAX_PAGES):
            params["StartIndex"] = page * PAGE_SIZE
            result = self._shape.obj(await self._http.get_json(where, params=params), where)
            items = self._shape.array(result.get("Items", []), where)
            for entry in items:
                item = self._shape.obj(entry, where)
                path = item.get("Path")
                key = components(path) if isinstance(path, str) else None
                if key in wanted:
                    found[wanted[key]] = self._shape.text(item, "Id", where)
            if len(found) == len(wanted) or len(items) < PAGE_SIZE:
                break
        return found


__all__ = ["ITEM_TYPES", "UPDATE_TYPES", "MediaBrowserNotifier"]
