"""Fake Jellyfin and Emby servers: the endpoints relayarr uses, with their real shapes.

Shapes follow Jellyfin's ``LibraryController``/``ItemsController``/``SessionController``
(10.8-10.10) and Emby's equivalents under ``/emby``: ``/System/Info`` is an object with
``ServerName``, ``Version`` and ``Id``; ``/Library/VirtualFolders`` an array of
``{Name, Locations, CollectionType, ItemId}``; ``/Items`` a ``{Items, TotalRecordCount,
StartIndex}`` page; ``/Sessions`` an array of sessions, ``NowPlayingItem`` set while one
plays; ``POST /Library/Media/Updated`` answers 204, and 400 to a body that does not bind.
A missing or wrong API key gets 401.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import orjson
from starlette.requests import Request
from starlette.responses import Response

from fakeplayers.server import FakeServer, json_response

TOKEN = "fake-api-key-0123456789"
UPDATE_TYPES = {"Created", "Modified", "Deleted"}


@dataclass
class Item:
    id: str
    name: str
    path: str
    type: str  # Movie | Episode | Series | Folder
    year: int | None = None
    season: int | None = None

    def dto(self) -> dict[str, object]:
        dto: dict[str, object] = {
            "Name": self.name,
            "ServerId": "f1e2d3",
            "Id": self.id,
            "Path": self.path,
            "Type": self.type,
            "IsFolder": self.type not in ("Movie", "Episode"),
            "MediaType": "Video" if self.type in ("Movie", "Episode") else "Unknown",
        }
        if self.year is not None:
            dto["ProductionYear"] = self.year
        if self.season is not None:
            dto["ParentIndexNumber"] = self.season
        return dto


@dataclass
class Library:
    name: str
    locations: list[str]
    collection_type: str = "movies"
    item_id: str = "lib1"


@dataclass
class MediaBrowserState:
    libraries: list[Library] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    playing: Item | None = None
    version: str = "10.10.3"


class FakeMediaBrowser(FakeServer):
    """One Jellyfin (``flavour="jellyfin"``) or Emby (``"emby"``) server."""

    def __init__(self, flavour: str, token: str = TOKEN) -> None:
        super().__init__()
        self.flavour = flavour
        self.prefix = "/emby" if flavour == "emby" else ""
        self.token = token
        self.state = MediaBrowserState(version="10.10.3" if flavour == "jellyfin" else "4.8.10.0")

    def authorized(self, request: Request) -> bool:
        if self.flavour == "emby":
            return request.headers.get("x-emby-token") == self.token
        header = request.headers.get("authorization", "")
        scheme, _, rest = header.partition(" ")
        if scheme != "MediaBrowser":
            return False
        values = dict(re.findall(r'(\w+)="?([^",]*)"?', rest))
        return values.get("Token") == self.token

    async def route(self, request: Request) -> Response:
        path = request.url.path
        if not path.startswith(self.prefix):
            return Response(status_code=404)
        path = path[len(self.prefix) :]
        method = request.method
        if method == "GET" and path == "/System/Info":
            return json_response(
                {
                    "ServerName": f"fake-{self.flavour}",
                    "Version": self.state.version,
                    "Id": "0123456789abcdef",
                    "OperatingSystem": "Linux",
                }
            )
        if method == "GET" and path == "/Library/VirtualFolders":
            return json_response(
                [
                    {
                        "Name": lib.name,
                        "Locations": lib.locations,
                        "CollectionType": lib.collection_type,
                        "ItemId": lib.item_id,
                        "LibraryOptions": {},
                    }
                    for lib in self.state.libraries
                ]
            )
        if method == "GET" and path == "/Sessions":
            return json_response(self._sessions())
        if method == "POST" and path == "/Library/Media/Updated":
            return await self._media_updated(request)
        if method == "GET" and path == "/Items":
            return self._items(request)
        refresh = re.fullmatch(r"/Items/([^/]+)/Refresh", path)
        if method == "POST" and refresh:
            known = any(item.id == refresh.group(1) for item in self.state.items)
            return Response(status_code=204 if known else 404)
        return Response(status_code=404)

    def _sessions(self) -> list[dict[str, object]]:
        idle: dict[str, object] = {
            "Id": "s1",
            "Client": "Jellyfin Web",
            "DeviceName": "Firefox",
            "PlayState": {},
        }
        if self.state.playing is None:
            return [idle]
        playing: dict[str, object] = dict(idle, Id="s2", NowPlayingItem=self.state.playing.dto())
        playing["PlayState"] = {"IsPaused": False, "PositionTicks": 1200000000}
        return [idle, playing]

    async def _media_updated(self, request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
            updates = body["Updates"]
            valid = isinstance(updates, list) and all(
                isinstance(u["Path"], str) and u["UpdateType"] in UPDATE_TYPES for u in updates
            )
        except (orjson.JSONDecodeError, KeyError, TypeError):
            valid = False
        return Response(status_code=204 if valid else 400)

    def _items(self, request: Request) -> Response:
        query = request.query_params
        types = set(query.get("IncludeItemTypes", "").split(",")) - {""}
        years = query.get("Years")
        season = query.get("ParentIndexNumber")
        chosen = [
            item
            for item in self.state.items
            if (not types or item.type in types)
            and (years is None or str(item.year) == years)
            and (season is None or str(item.season) == season)
        ]
        start = int(query.get("StartIndex", "0"))
        limit = int(query.get("Limit", str(len(chosen) or 1)))
        page = chosen[start : start + limit]
        return json_response(
            {
                "Items": [item.dto() for item in page],
                "TotalRecordCount": len(chosen),
                "StartIndex": start,
            }
        )


__all__ = ["TOKEN", "FakeMediaBrowser", "Item", "Library", "MediaBrowserState"]
