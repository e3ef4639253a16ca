"""A small media world for pipeline tests: library folders on disk, settings that map the
*arr's paths onto them, a real SQLite queue and library database, and webhook payloads
from the fixtures with their paths kept as the *arr sends them (``/data/media/...``).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relayarr.app import Services, build_queue, open_services
from relayarr.config import Settings
from relayarr.jobqueue import Job, JobQuery, JobQueue, JobStatus, Storage, open_storage
from relayarr.pipeline import WEBHOOK

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"
ARR_MOVIES = "/data/media/movies"
ARR_TV = "/data/media/tv"
ARRIVAL_NEW = "Arrival (2016) {imdb-tt2543164} [Bluray-2160p].mkv"
ARRIVAL_OLD = "Arrival (2016) {imdb-tt2543164} [Bluray-1080p].mkv"


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return copy.deepcopy(body)


def stored(source: str, body: object, instance: str | None = None) -> dict[str, object]:
    """A job payload exactly as the web service stores it."""
    return {
        "source": source,
        "instance": instance,
        "received_at": "2025-03-08T21:14:07.123456+00:00",
        "body": body,
    }


def touch(path: Path, size: int = 16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    return path


@dataclass
class World:
    """The roots on disk and what runs over them."""

    tmp: Path
    movies: Path
    tv: Path
    settings: Settings
    storage: Storage
    services: Services
    queue: JobQueue

    @property
    def store(self) -> Any:
        assert self.services.library is not None
        return self.services.library.store

    def arrival(self, *names: str) -> Path:
        folder = self.movies / "Arrival (2016)"
        for name in names:
            touch(folder / name)
        return folder

    def severance(self, *episodes: str) -> Path:
        folder = self.tv / "Severance"
        touch(folder / "tvshow.nfo", 0)
        for name in episodes:
            touch(folder / "Season 02" / name)
        return folder

    async def webhook(self, source: str, body: object, instance: str | None = None) -> Job:
        return await self.queue.add_job(WEBHOOK, stored(source, body, instance), priority=1)

    async def settle(self, within: float = 20.0) -> None:
        """Wait until no job is pending or running (snoozed ones count as pending)."""
        async with asyncio.timeout(within):
            while True:
                stats = await self.queue.stats()
                if stats.count(JobStatus.PENDING) + stats.count(JobStatus.PROCESSING) == 0:
                    return
                await asyncio.sleep(0.05)

    async def jobs(self, job_type: str | None = None) -> list[Job]:
        query = JobQuery(types=(job_type,) if job_type else (), limit=500)
        return list(reversed((await self.queue.list_jobs(query)).jobs))

    async def children(self, job: Job) -> list[Job]:
        page = await self.queue.list_jobs(JobQuery(parent_id=job.id, limit=500))
        return list(reversed(page.jobs))


@asynccontextmanager
async def world(
    tmp: Path,
    *,
    settle_seconds: float = 0.0,
    anchors: tuple[str, ...] = (),
    reconcile_every: float = 0.0,
    mount_retry_seconds: float = 60.0,
    tweak: Callable[[dict[str, Any]], None] | None = None,
) -> AsyncIterator[World]:
    movies, tv = tmp / "srv" / "movies", tmp / "srv" / "tv"
    movies.mkdir(parents=True)
    tv.mkdir(parents=True)
    config: dict[str, Any] = {
        "data_dir": tmp / "data",
        "queue": {"poll_interval": 0.1},
        "library": {
            "settle_seconds": settle_seconds,
            "reconcile_every": reconcile_every,
            "mount_retry_seconds": mount_retry_seconds,
            "roots": [
                {"path": str(movies), "kind": "movies", "anchors": list(anchors)},
                {"path": str(tv), "kind": "series"},
            ],
        },
        "mappings": [
            {"source": "radarr", "from": ARR_MOVIES, "to": str(movies)},
            {"source": "sonarr", "from": ARR_TV, "to": str(tv)},
        ],
    }
    if tweak is not None:
        tweak(config)
    settings = Settings(**config)
    storage = await open_storage(f"sqlite:///{tmp}/queue.db")
    try:
        async with open_services(settings, create=True) as services:
            queue = build_queue(settings, storage, services=services)
            try:
                yield World(tmp, movies, tv, settings, storage, services, queue)
            finally:
                await queue.stop(timeout=5.0)
    finally:
        await storage.aclose()
