"""A dashboard in-process over a real library: folders on disk, the real scanner, a real
SQLite queue and library database, and a logged-in client (see ``test_dashboard_library``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from images import png
from relayarr.app import build_queue, open_services
from relayarr.config import ServerSettings, Settings
from relayarr.jobqueue import JobQueue, open_storage
from relayarr.library.db import EventInfo, LibraryStore
from relayarr.pipeline import Library
from relayarr.web import create_app
from relayarr.web.app import RelayarrApp
from web.conftest import KEY

BASE = "http://relayarr.test"


@dataclass
class LibraryDash:
    """The app, its library, and a client logged in with its CSRF token."""

    app: RelayarrApp
    queue: JobQueue
    library: Library
    movies: Path
    tv: Path
    client: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    csrf: str

    @property
    def store(self) -> LibraryStore:
        return self.library.store

    async def movie(
        self, name: str, files: dict[str, bytes], title: str | None = None
    ) -> tuple[int, Path]:
        """Make a movie folder with ``files``, scan it for real and record it."""
        folder = self.movies / name
        for relative, content in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        scan = self.library.scanner.scan_movie(folder)
        info = EventInfo(title=title) if title else None
        record = await self.store.record_movie_scan(scan, self.library.roots.roots[0], info)
        return record.item_id, folder

    async def asset_ids(self, movie_id: int) -> dict[str, int]:
        """The movie's asset ids by file name."""
        detail = await self.store.get_movie(movie_id)
        assert detail is not None
        return {Path(asset.path).name: asset.id for asset in detail.assets}

    async def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(path, data={"csrf": self.csrf, **(data or {})})


def poster_files(video: str = "movie.mkv") -> dict[str, bytes]:
    return {video: b"\0" * 64, "poster.png": png(), "fanart.jpg": b"\xff\xd8\xff\xe0 jpeg"}


def csrf_of(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)">', html)
    assert found is not None
    return found.group(1)


async def log_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    response = await client.post(
        "/login", data={"api_key": KEY, "login_token": token.group(1), "next": "/"}
    )
    assert response.status_code == 303, response.text


def library_settings(tmp: Path, **extra: Any) -> Settings:
    movies, tv = tmp / "media" / "movies", tmp / "media" / "tv"
    movies.mkdir(parents=True, exist_ok=True)
    tv.mkdir(parents=True, exist_ok=True)
    return Settings.model_validate(
        {
            "data_dir": tmp / "data",
            "library": {
                "roots": [
                    {"path": str(movies), "kind": "movies"},
                    {"path": str(tv), "kind": "series"},
                ]
            },
            "mappings": [
                {"source": "radarr", "from": "/movies", "to": str(movies)},
                {"source": "radarr/4k", "from": "/movies", "to": str(movies)},
                {"source": "sonarr", "from": "/tv", "to": str(tv)},
            ],
            **extra,
        }
    )


@asynccontextmanager
async def library_dash(tmp: Path, **extra: Any) -> AsyncIterator[LibraryDash]:
    settings = library_settings(tmp, **extra)
    storage = await open_storage(f"sqlite:///{tmp}/queue.db")
    try:
        async with open_services(settings, create=True) as services:
            assert services.library is not None
            queue = build_queue(settings, storage, services=services)
            app = create_app(queue, ServerSettings(), api_key=KEY, services=services)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as anon,
            ):
                await log_in(client)
                csrf = csrf_of((await client.get("/library")).text)
                roots = services.library.roots.roots
                yield LibraryDash(
                    app, queue, services.library, roots[0].path, roots[1].path, client, anon, csrf
                )
    finally:
        await storage.aclose()


@asynccontextmanager
async def bare_dash(tmp: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A dashboard with neither a library nor players configured, logged in."""
    settings = Settings(data_dir=tmp / "data")
    storage = await open_storage(f"sqlite:///{tmp}/queue.db")
    try:
        async with open_services(settings, create=True) as services:
            queue = build_queue(settings, storage, services=services)
            app = create_app(queue, ServerSettings(), api_key=KEY, services=services)
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url=BASE) as client,
            ):
                await log_in(client)
                yield client
    finally:
        await storage.aclose()


__all__ = ["BASE", "LibraryDash", "bare_dash", "csrf_of", "library_dash", "poster_files"]
