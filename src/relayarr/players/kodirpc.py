"""Kodi's JSON-RPC over HTTP (API v13, Kodi 20), with the few reads the notifier needs.

``POST /jsonrpc`` with HTTP Basic auth (Kodi's web server answers 401 to a wrong login);
an ``{"error": {...}}`` answer becomes :class:`~relayarr.errors.PlayerBadAnswer` naming
the method. See https://kodi.wiki/view/JSON-RPC_API/v13.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

import httpx

from relayarr.errors import PlayerBadAnswer
from relayarr.players.change import Kind
from relayarr.players.http import PlayerHttp, Shape
from relayarr.players.notifier import Library
from relayarr.players.pathforms import components, contains
from relayarr.players.settings import PlayerSettings

MULTIPATH = "multipath://"

# For each kind: the listing method, the key of its list in the answer, the id field.
_LISTS = {
    Kind.MOVIE: ("VideoLibrary.GetMovies", "movies", "movieid"),
    Kind.EPISODE: ("VideoLibrary.GetEpisodes", "episodes", "episodeid"),
}


@dataclass(frozen=True, slots=True)
class KodiItem:
    """A movie or an episode in Kodi's library: its id and its file as Kodi stores it."""

    kind: Kind
    id: int
    file: str


class KodiRpc:
    """JSON-RPC calls to one Kodi, through its :class:`PlayerHttp`."""

    def __init__(self, settings: PlayerSettings) -> None:
        assert settings.username is not None
        assert settings.password is not None
        self.player = settings.name
        self.http = PlayerHttp(
            settings.name,
            settings.url,
            timeout=settings.timeout,
            max_requests=settings.max_requests,
            auth=httpx.BasicAuth(settings.username, settings.password.get_secret_value()),
        )
        self.shape = Shape(settings.name)
        self._ids = itertools.count(1)

    async def call(self, method: str, params: Mapping[str, object] | None = None) -> object:
        """Call ``method`` and return its ``result``."""
        body: dict[str, object] = {"jsonrpc": "2.0", "method": method, "id": next(self._ids)}
        if params is not None:
            body["params"] = dict(params)
        response = await self.http.request("POST", "/jsonrpc", json=body)
        answer = self.shape.obj(self.http.json_of(response, "/jsonrpc"), method)
        error = answer.get("error")
        if error is not None:
            detail = error if not isinstance(error, dict) else error.get("message", error)
            raise PlayerBadAnswer(self.player, f"{method} failed: {detail}")
        if "result" not in answer:
            raise PlayerBadAnswer(self.player, f"{method}: the answer has no result")
        return answer["result"]

    async def version(self) -> str:
        """``Kodi 20.1 (stable), JSON-RPC 13.0.0``."""
        where = "Application.GetProperties"
        props = self.shape.obj(await self.call(where, {"properties": ["name", "version"]}), where)
        version = self.shape.obj(props.get("version"), where)
        api = self.shape.obj(await self.call("JSONRPC.Version"), "JSONRPC.Version")
        api_version = self.shape.obj(api.get("version"), "JSONRPC.Version")
        name = props.get("name") if isinstance(props.get("name"), str) else "Kodi"
        release = f"{version.get('major')}.{version.get('minor')}"
        tag = version.get("tag")
        api_text = ".".join(str(api_version.get(part)) for part in ("major", "minor", "patch"))
        return f"{name} {release}{f' ({tag})' if tag else ''}, JSON-RPC {api_text}"

    async def sources(self) -> tuple[Library, ...]:
        """The video sources (``Files.GetSources``), multipath sources split into their paths."""
        where = "Files.GetSources"
        result = self.shape.obj(await self.call(where, {"media": "video"}), where)
        found = []
        for entry in self.shape.array(result.get("sources", []), where):
            source = self.shape.obj(entry, where)
            path = self.shape.text(source, "file", where)
            label = source.get("label")
            found.append(
                Library(name=label if isinstance(label, str) else path, paths=split_multipath(path))
            )
        return tuple(found)

    async def playing_video(self) -> bool:
        """True when a video player is active (playing or paused)."""
        where = "Player.GetActivePlayers"
        players = self.shape.array(await self.call(where), where)
        return any(isinstance(item, dict) and item.get("type") == "video" for item in players)

    async def scanning(self) -> bool:
        """True while Kodi scans (or cleans) its video library."""
        where = "XBMC.GetInfoBooleans"
        result = self.shape.obj(await self.call(where, {"booleans": ["Library.IsScanning"]}), where)
        return result.get("Library.IsScanning") is True

    async def items_under(self, kind: Kind, folder: str) -> list[KodiItem]:
        """The movies or episodes whose file lies under ``folder`` (Kodi's form)."""
        method, key, id_key = _LISTS[kind]
        params = {
            # "path" is the item's folder; a LIKE prefix in SQL, so the exact
            # whole-component check below drops neighbours such as "Movie (2010) 2".
            "filter": {"field": "path", "operator": "startswith", "value": folder},
            "properties": ["file"],
        }
        result = self.shape.obj(await self.call(method, params), method)
        items = []
        for entry in self.shape.array(result.get(key, []), method):
            item = self.shape.obj(entry, method)
            file = self.shape.text(item, "file", method)
            item_id = item.get(id_key)
            if isinstance(item_id, int) and contains(folder, file):
                items.append(KodiItem(kind, item_id, file))
        return items


def split_multipath(path: str) -> tuple[str, ...]:
    """A source's paths: ``multipath://a%2f/b%2f/`` holds several, URL-encoded, each ending
    in ``/``; any other source is one path."""
    if not path.startswith(MULTIPATH):
        return (path,)
    return tuple(unquote(part) for part in path[len(MULTIPATH) :].split("/") if part)


def same_file(one: str, other: str) -> bool:
    """True when both name the same file (Windows paths compare without case)."""
    return components(one) == components(other)


__all__ = ["KodiItem", "KodiRpc", "same_file", "split_multipath"]
