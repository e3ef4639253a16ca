"""Fake TMDB v3, fanart.tv v3 and image servers, over real HTTP on loopback.

One Starlette app under uvicorn in a thread serves:

- ``/tmdb/3/...``: movie and TV details (``append_to_response`` parts included, images
  filtered by ``include_image_language``, texts in the requested language from the
  item's ``translations``, as TMDB does), seasons, episodes and ``/find``;
- ``/fanart/v3/movies/{id}`` and ``/fanart/v3/tv/{id}``;
- ``/img/...``: images (a small JPEG or PNG made from the path, or registered bytes).

Answers come from ``tests/fixtures/metadata/*.json`` in TMDB's and fanart.tv's documented
shapes, errors in theirs too (TMDB ``status_code``/``status_message``, fanart.tv
``{"status": "error", "error message": ...}``). Every request is recorded, and faults can
be queued per path: an HTTP status with headers, a slow answer, a body that is not JSON.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "metadata"
TMDB_KEY = "tmdb-test-key-0123456789"
TMDB_TOKEN = "eyJhbGciOiJIUzI1NiJ9.test-token"
FANART_KEY = "fanart-test-key-0123456789"


@dataclass(frozen=True)
class Recorded:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class Fault:
    """One scripted answer: ``status`` with ``headers``, or ``slow`` seconds of silence
    before the normal answer, or ``garbage`` (200 with a body that is not JSON)."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    slow: float = 0.0
    garbage: bool = False


def jpeg(tag: str, size: int = 600) -> bytes:
    body = (tag.encode() * (size // max(1, len(tag)) + 1))[:size]
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body + b"\xff\xd9"


def png(tag: str, size: int = 600) -> bytes:
    body = (tag.encode() * (size // max(1, len(tag)) + 1))[:size]
    return b"\x89PNG\r\n\x1a\n" + body


class FakeState:
    """What the fakes answer, and what they were asked."""

    def __init__(self) -> None:
        self.base = ""
        self.requests: list[Recorded] = []
        self.faults: dict[str, list[Fault]] = {}
        self.movies: dict[int, dict[str, Any]] = {}
        self.series: dict[int, dict[str, Any]] = {}
        self.episodes: dict[tuple[int, int, int], dict[str, Any]] = {}
        self.fanart_movies: dict[str, dict[str, Any]] = {}
        self.fanart_tv: dict[str, dict[str, Any]] = {}
        self.images: dict[str, tuple[bytes, str]] = {}
        self.streamed: dict[str, int] = {}  # path -> bytes sent without a Content-Length
        self.load_fixtures()

    def load_fixtures(self) -> None:
        self.movies[329865] = _fixture("tmdb_movie_329865.json")
        self.series[95396] = _fixture("tmdb_tv_95396.json")
        self.episodes[(95396, 2, 3)] = _fixture("tmdb_episode_95396_2_3.json")
        self.fanart_movies["329865"] = _fixture("fanart_movie_329865.json")
        self.fanart_tv["371980"] = _fixture("fanart_tv_371980.json")

    def fault(self, path: str, *faults: Fault) -> None:
        self.faults.setdefault(path, []).extend(faults)

    def calls(self, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def reset_calls(self) -> None:
        self.requests.clear()


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def _tmdb_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"success": False, "status_code": code, "status_message": message}, status_code=status
    )


def _fanart_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": "error", "error message": message}, status_code=status)


def _localise(data: dict[str, Any], language: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Texts in ``language`` as TMDB gives them: the translation's, else empty (a title
    falls back to the original one)."""
    code = language.partition("-")[0]
    out = copy.deepcopy(data)
    if code == "en":
        return out
    translations = (data.get("translations") or {}).get("translations") or []
    chosen = next((t for t in translations if t.get("iso_639_1") == code), None)
    for key in keys:
        value = (chosen or {}).get("data", {}).get(key, "") if chosen else ""
        if key in ("title", "name") and not value:
            value = data.get("original_title") or data.get("original_name") or data.get(key, "")
        out[key] = value
    return out


def _filter_images(data: dict[str, Any], include: str) -> dict[str, Any]:
    if "images" not in data or not include:
        return data
    wanted = {None if code == "null" else code for code in include.split(",")}
    images = {
        kind: [i for i in items if i.get("iso_639_1") in wanted]
        for kind, items in data["images"].items()
    }
    return {**data, "images": images}


def _appended(data: dict[str, Any], append: str, parts: tuple[str, ...]) -> dict[str, Any]:
    requested = set(append.split(",")) if append else set()
    return {k: v for k, v in data.items() if k not in parts or k in requested}


_MOVIE_PARTS = ("release_dates", "credits", "images", "external_ids", "translations")
_TV_PARTS = ("content_ratings", "credits", "images", "external_ids", "translations")


def build_app(state: FakeState) -> Starlette:
    async def before(request: Request) -> Response | None:
        state.requests.append(
            Recorded(request.url.path, dict(request.query_params), dict(request.headers))
        )
        queued = state.faults.get(request.url.path)
        if not queued:
            return None
        fault = queued.pop(0)
        if fault.slow:
            await asyncio.sleep(fault.slow)
            return None
        if fault.garbage:
            return Response(b"<html>upstream error</html>", media_type="application/json")
        body = (
            {"status": "error", "error message": "fault"}
            if "/fanart/" in request.url.path
            else {"success": False, "status_code": 25, "status_message": "fault"}
        )
        return JSONResponse(body, status_code=fault.status, headers=fault.headers)

    def tmdb_auth(request: Request) -> Response | None:
        key = request.query_params.get("api_key")
        header = request.headers.get("authorization", "")
        if key == TMDB_KEY or header == f"Bearer {TMDB_TOKEN}":
            return None
        return _tmdb_error(401, 7, "Invalid API key: You must be granted a valid key.")

    def not_found() -> JSONResponse:
        return _tmdb_error(404, 34, "The resource you requested could not be found.")

    async def movie(request: Request) -> Response:
        if (early := await before(request)) or (early := tmdb_auth(request)):
            return early
        data = state.movies.get(int(request.path_params["id"]))
        if data is None:
            return not_found()
        params = request.query_params
        data = _localise(data, params.get("language", "en-US"), ("title", "overview", "tagline"))
        data = _filter_images(data, params.get("include_image_language", ""))
        return JSONResponse(_appended(data, params.get("append_to_response", ""), _MOVIE_PARTS))

    async def tv(request: Request) -> Response:
        if (early := await before(request)) or (early := tmdb_auth(request)):
            return early
        data = state.series.get(int(request.path_params["id"]))
        if data is None:
            return not_found()
        params = request.query_params
        data = _localise(data, params.get("language", "en-US"), ("name", "overview", "tagline"))
        data = _filter_images(data, params.get("include_image_language", ""))
        return JSONResponse(_appended(data, params.get("append_to_response", ""), _TV_PARTS))

    async def episode(request: Request) -> Response:
        if (early := await before(request)) or (early := tmdb_auth(request)):
            return early
        p = request.path_params
        data = state.episodes.get((int(p["id"]), int(p["season"]), int(p["episode"])))
        if data is None:
            return not_found()
        return JSONResponse(data)

    async def season(request: Request) -> Response:
        if (early := await before(request)) or (early := tmdb_auth(request)):
            return early
        p = request.path_params
        episodes = [
            {k: v for k, v in e.items() if k not in ("credits", "external_ids", "images")}
            for (sid, s, _), e in sorted(state.episodes.items())
            if sid == int(p["id"]) and s == int(p["season"])
        ]
        if not episodes:
            return not_found()
        return JSONResponse(
            {
                "_id": "x",
                "air_date": episodes[0]["air_date"],
                "episodes": episodes,
                "name": f"Season {p['season']}",
                "overview": "",
                "id": 1,
                "poster_path": None,
                "season_number": int(p["season"]),
                "vote_average": 0,
            }
        )

    async def find(request: Request) -> Response:
        if (early := await before(request)) or (early := tmdb_auth(request)):
            return early
        external = request.path_params["external"]
        source = request.query_params.get("external_source")
        movies = [
            {"id": i, "title": d["title"], "media_type": "movie"}
            for i, d in state.movies.items()
            if source == "imdb_id" and d.get("imdb_id") == external
        ]
        shows = [
            {"id": i, "name": d["name"], "media_type": "tv"}
            for i, d in state.series.items()
            if (source == "tvdb_id" and str(d["external_ids"].get("tvdb_id")) == external)
            or (source == "imdb_id" and d["external_ids"].get("imdb_id") == external)
        ]
        return JSONResponse(
            {
                "movie_results": movies,
                "person_results": [],
                "tv_results": shows,
                "tv_episode_results": [],
                "tv_season_results": [],
            }
        )

    def fanart_answer(request: Request, table: dict[str, dict[str, Any]]) -> Response:
        if request.query_params.get("api_key") != FANART_KEY:
            return _fanart_error(401, "Invalid API key")
        data = table.get(request.path_params["id"])
        if data is None:
            return _fanart_error(404, "Not found")
        text = json.dumps(data).replace("{base}", state.base + "/img")
        return Response(text, media_type="application/json")

    async def fanart_movie(request: Request) -> Response:
        return await before(request) or fanart_answer(request, state.fanart_movies)

    async def fanart_tv(request: Request) -> Response:
        return await before(request) or fanart_answer(request, state.fanart_tv)

    async def image(request: Request) -> Response:
        if early := await before(request):
            return early
        path = request.path_params["path"]
        if path in state.streamed:
            total = state.streamed[path]

            async def chunks() -> AsyncIterator[bytes]:
                sent = 0
                yield b"\xff\xd8\xff\xe0"
                while sent < total:
                    yield b"\0" * 65536
                    sent += 65536

            return StreamingResponse(chunks(), media_type="image/jpeg")
        if path in state.images:
            data, content_type = state.images[path]
            return Response(data, media_type=content_type)
        if path.endswith(".png"):
            return Response(png(path), media_type="image/png")
        if path.endswith(".jpg"):
            return Response(jpeg(path), media_type="image/jpeg")
        return Response(b"not found", status_code=404, media_type="text/plain")

    return Starlette(
        routes=[
            Route("/tmdb/3/movie/{id:int}", movie),
            Route("/tmdb/3/tv/{id:int}", tv),
            Route("/tmdb/3/tv/{id:int}/season/{season:int}", season),
            Route("/tmdb/3/tv/{id:int}/season/{season:int}/episode/{episode:int}", episode),
            Route("/tmdb/3/find/{external}", find),
            Route("/fanart/v3/movies/{id}", fanart_movie),
            Route("/fanart/v3/tv/{id}", fanart_tv),
            Route("/img/{path:path}", image),
        ]
    )


class LoopbackServer:
    """The fakes under uvicorn in a thread, on a free loopback port."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        config = uvicorn.Config(
            build_app(state),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake provider server did not start")
            threading.Event().wait(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.state.base = self.url
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
