"""``python -m benchmarks.dashboard_library``: how long the library page takes to answer
with a large library.

A SQLite library database holding ``--movies`` movies (10,000 by default) and a fifth as
many series, each with a video file and a poster asset, written straight into the tables
(a scan of that many folders would measure the scanner). The dashboard app runs
in-process (httpx over ASGI, logged in); each figure is the median and worst of
``--rounds`` answers of:

- ``/library``: the newest 24 of movies and series together, with their posters;
- ``/library`` ten pages deep (following "Older" cursors), the cost of a later page;
- ``/library?search=...``: a search that matches one item in a hundred;
- ``/library/movie/{id}``: one item's page.

Nothing here is asserted; ``tests/web/test_dashboard_library_bench.py`` only checks that it
runs. Figures are recorded in ``docs/dash2.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from relayarr.app import build_queue, open_services
from relayarr.config import ServerSettings, Settings
from relayarr.jobqueue import open_storage
from relayarr.library.db.engine import make_engine
from relayarr.library.db.migrate import migrate
from relayarr.library.db.models import Asset, MediaFile, Movie, Series
from relayarr.web import create_app

KEY = "benchmark-key-0123456789"
BATCH = 2000


@dataclass(frozen=True, slots=True)
class Figure:
    page: str
    median_ms: float
    max_ms: float


def _folder(root: Path, model: type[Movie] | type[Series], n: int) -> str:
    if model is Movie:
        return f"{root}/movies/Film {n:06d} ({1950 + n % 70})"
    return f"{root}/tv/Show {n:06d}"


async def seed(url: str, root: Path, movies: int) -> None:
    """``movies`` movies and ``movies // 5`` series, one scanned a second apart each."""
    await migrate(url)
    engine = make_engine(url, create=False)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    models: tuple[tuple[type[Movie] | type[Series], int], ...] = (
        (Movie, movies),
        (Series, movies // 5),
    )
    try:
        for model, count in models:
            owner = "movie_id" if model is Movie else "series_id"
            for first in range(0, count, BATCH):
                numbers = range(first + 1, min(first + BATCH, count) + 1)
                rows, files, assets = [], [], []
                for n in numbers:
                    folder = _folder(root, model, n)
                    title = f"{'Film' if model is Movie else 'Show'} {n:06d}"
                    rows.append(
                        {"id": n, "root": folder.rsplit("/", 1)[0], "folder": folder,
                         "title": title, "original_title": None, "year": 1950 + n % 70,
                         "tmdb_id": n, "imdb_id": None, "sort_key": title.casefold(),
                         "search_text": title.casefold(), "signature": "", "issues": [],
                         "created_at": start, "scanned_at": start + timedelta(seconds=n)}
                    )  # fmt: skip
                    files.append(
                        {owner: n, "path": f"{folder}/v.mkv", "role": "video", "size": 1,
                         "mtime_ns": 0, "details": None}
                    )  # fmt: skip
                    assets.append(
                        {owner: n, "path": f"{folder}/poster.jpg", "kind": "poster",
                         "scope": "folder", "season_number": None, "video_path": None,
                         "position": None, "size": 1, "mtime_ns": 0, "details": None}
                    )  # fmt: skip
                async with engine.begin() as connection:
                    await connection.execute(insert(model), rows)
                    await connection.execute(insert(MediaFile), files)
                    await connection.execute(insert(Asset), assets)
    finally:
        await engine.dispose()


async def timed(client: httpx.AsyncClient, path: str, rounds: int) -> Figure:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return Figure(path, round(statistics.median(times), 1), round(max(times), 1))


async def run(movies: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name in ("movies", "tv"):
            (base / name).mkdir()
        url = f"sqlite:///{base}/library.db"
        began = time.perf_counter()
        await seed(url, base, movies)
        seeded = time.perf_counter() - began
        settings = Settings.model_validate(
            {
                "data_dir": base / "data",
                "library": {
                    "database_url": url,
                    "roots": [
                        {"path": str(base / "movies"), "kind": "movies"},
                        {"path": str(base / "tv"), "kind": "series"},
                    ],
                },
            }
        )
        storage = await open_storage(f"sqlite:///{base}/queue.db")
        try:
            async with open_services(settings) as services:
                queue = build_queue(settings, storage, services=services)
                app = create_app(queue, ServerSettings(), api_key=KEY, services=services)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench"
                ) as client:
                    await _log_in(client)
                    figures = [await timed(client, "/library", rounds)]
                    deep = await _deep_path(client, 10)
                    figures.append(await timed(client, deep, rounds))
                    figures.append(await timed(client, "/library?search=00042", rounds))
                    figures.append(await timed(client, f"/library/movie/{movies // 2}", rounds))
        finally:
            await storage.aclose()
    figures[1] = Figure("/library (page 11)", figures[1].median_ms, figures[1].max_ms)
    return {
        "movies": movies,
        "series": movies // 5,
        "rounds": rounds,
        "seed_seconds": round(seeded, 1),
        "pages": [asdict(figure) for figure in figures],
    }


async def _log_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    data = {"api_key": KEY, "login_token": token.group(1), "next": "/"}
    response = await client.post("/login", data=data)
    assert response.status_code == 303


async def _deep_path(client: httpx.AsyncClient, pages: int) -> str:
    path = "/library"
    for _ in range(pages):
        found = re.search(r'<a href="(/library\?[^"]+)" rel="next">', (await client.get(path)).text)
        if found is None:
            break
        path = found.group(1).replace("&amp;", "&")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard_library")
    parser.add_argument("--movies", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    movies, rounds = (300, 2) if args.quick else (args.movies, args.rounds)
    result = asyncio.run(run(movies, rounds))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['movies']} movies, {result['series']} series (seeded in "
        f"{result['seed_seconds']} s), {rounds} answers each:"
    )
    pages = result["pages"]
    assert isinstance(pages, list)
    for figure in pages:
        page, median, worst = figure["page"], figure["median_ms"], figure["max_ms"]
        print(f"  {page:<28} median {median:>7} ms, max {worst} ms")


if __name__ == "__main__":
    main()
