"""A fake Plex Media Server: the endpoints relayarr uses, with their real shapes.

Plex answers XML unless asked for ``Accept: application/json``, and then wraps everything
in ``{"MediaContainer": {...}}``: ``/`` holds ``friendlyName``, ``version`` and
``machineIdentifier``; ``/library/sections`` a ``Directory`` array with ``key`` (a
string), ``title``, ``type`` and ``Location[]{id, path}``; ``/status/sessions`` a
``Metadata`` array while something plays. ``GET /library/sections/{key}/refresh`` answers
200 with an empty body (404 for an unknown section). A missing or wrong
``X-Plex-Token`` (header or query) gets Plex's 401 HTML page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from fakeplayers.server import FakeServer, json_response

TOKEN = "fake-plex-token-abcdef"
UNAUTHORIZED_HTML = (
    b"<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"
)


@dataclass
class Section:
    key: str
    title: str
    type: str
    locations: list[str]

    def directory(self) -> dict[str, object]:
        return {
            "allowSync": True,
            "art": "/:/resources/movie-fanart.jpg",
            "key": self.key,
            "type": self.type,
            "title": self.title,
            "agent": "tv.plex.agents.movie" if self.type == "movie" else "tv.plex.agents.series",
            "scanner": "Plex Movie" if self.type == "movie" else "Plex TV Series",
            "language": "en-US",
            "uuid": f"0000-{self.key}",
            "refreshing": False,
            "Location": [
                {"id": index + 1, "path": path} for index, path in enumerate(self.locations)
            ],
        }


@dataclass
class PlexState:
    sections: list[Section] = field(default_factory=list)
    playing: str | None = None  # "movie", "episode", "track"...
    version: str = "1.41.3.9314-a0bfb8370"


class FakePlex(FakeServer):
    """One Plex Media Server."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.state = PlexState()

    def authorized(self, request: Request) -> bool:
        sent = request.headers.get("x-plex-token") or request.query_params.get("X-Plex-Token")
        return sent == self.token

    def unauthorized(self) -> Response:
        return Response(UNAUTHORIZED_HTML, status_code=401, media_type="text/html")

    async def route(self, request: Request) -> Response:
        if "application/json" not in request.headers.get("accept", ""):
            return Response(
                b'<?xml version="1.0"?><MediaContainer size="0"/>', media_type="text/xml"
            )
        path, method = request.url.path, request.method
        if method == "GET" and path == "/":
            return json_response(
                {
                    "MediaContainer": {
                        "size": 0,
                        "friendlyName": "fake-plex",
                        "machineIdentifier": "abc123",
                        "version": self.state.version,
                        "myPlex": False,
                    }
                }
            )
        if method == "GET" and path == "/library/sections":
            directories = [section.directory() for section in self.state.sections]
            return json_response(
                {
                    "MediaContainer": {
                        "size": len(directories),
                        "allowSync": False,
                        "title1": "Plex Library",
                        "Directory": directories,
                    }
                }
            )
        if method == "GET" and path == "/status/sessions":
            container: dict[str, object] = {"size": 0}
            if self.state.playing is not None:
                container = {
                    "size": 1,
                    "Metadata": [
                        {
                            "type": self.state.playing,
                            "title": "Something",
                            "Player": {"state": "playing", "title": "TV"},
                        }
                    ],
                }
            return json_response({"MediaContainer": container})
        parts = path.strip("/").split("/")
        refresh = len(parts) == 4 and parts[:2] == ["library", "sections"] and parts[3] == "refresh"
        if method == "GET" and refresh and any(s.key == parts[2] for s in self.state.sections):
            return Response(b"", status_code=200)
        return Response(status_code=404)


__all__ = ["TOKEN", "FakePlex", "PlexState", "Section"]
