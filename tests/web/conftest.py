"""The web app in-process (httpx over ASGI) on a real SQLite file, for fast contract tests.

The real server process, over real sockets, is exercised in tests/integration/test_serve*.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from relayarr.app import build_queue
from relayarr.config import ServerSettings, Settings
from relayarr.jobqueue import JobQueue, StorageEngine, open_storage
from relayarr.web import create_app

KEY = "test-key-0123456789abcdef"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"
SMALL_LIMIT = 64 * 1024


def fixture_body(source: str, name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((FIXTURES / source / f"{name}.json").read_text())
    return loaded


def fixture_names(source: str) -> list[str]:
    return sorted(path.stem for path in (FIXTURES / source).glob("*.json"))


@dataclass
class Service:
    """An app over a fresh queue, and an authenticated and an anonymous client."""

    queue: JobQueue
    storage: StorageEngine
    client: httpx.AsyncClient  # sends the key in X-Api-Key
    anonymous: httpx.AsyncClient

    async def job_count(self) -> int:
        stats = await self.storage.stats()
        return sum(
            counts.pending + counts.processing + counts.completed + counts.failed
            for counts in stats.by_type.values()
        ) + sum(counts.cancelled for counts in stats.by_type.values())


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    storage = await open_storage(f"sqlite:///{tmp_path}/queue.db")
    queue = build_queue(Settings(data_dir=tmp_path), storage)
    app = create_app(queue, ServerSettings(max_body_bytes=SMALL_LIMIT), api_key=KEY)
    transport = httpx.ASGITransport(app=app)
    base = "http://relayarr.test"
    async with (
        httpx.AsyncClient(transport=transport, base_url=base, headers={"X-Api-Key": KEY}) as client,
        httpx.AsyncClient(transport=transport, base_url=base) as anonymous,
    ):
        yield Service(queue, storage, client, anonymous)
    await storage.aclose()
