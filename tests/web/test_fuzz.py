"""Property-based fuzzing of the running app: thousands of random requests (methods, paths,
credentials, headers, query strings and bodies, from garbage bytes to subtly broken *arr
payloads). Never a 5xx, every error a JSON body, and no job from a refused request.

In-process over ASGI for speed; tests/integration/test_serve_fuzz.py repeats a smaller run
against a real server process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from relayarr.app import build_queue
from relayarr.config import ServerSettings, Settings
from relayarr.jobqueue import StorageEngine, open_storage
from relayarr.web import create_app
from web.conftest import KEY, SMALL_LIMIT
from web.fuzz import API_PATHS, WEBHOOK_PATHS, FuzzRequest, check_answer, requests


@dataclass
class Running:
    runner: asyncio.Runner
    storage: StorageEngine
    client: httpx.AsyncClient

    def count(self) -> int:
        async def total() -> int:
            stats = await self.storage.stats()
            return sum(
                c.pending + c.processing + c.completed + c.failed + c.cancelled
                for c in stats.by_type.values()
            )

        return self.runner.run(total())

    def send(self, request: FuzzRequest) -> httpx.Response:
        return self.runner.run(
            self.client.request(
                request.method,
                request.path,
                headers=request.headers,
                params=request.params,
                content=request.content,
            )
        )


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    path: Path = tmp_path_factory.mktemp("fuzz")
    with asyncio.Runner() as runner:
        storage = runner.run(open_storage(f"sqlite:///{path}/queue.db"))
        queue = build_queue(Settings(data_dir=path), storage)
        app = create_app(queue, ServerSettings(max_body_bytes=SMALL_LIMIT), api_key=KEY)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        yield Running(runner, storage, client)
        runner.run(client.aclose())
        runner.run(storage.aclose())


FUZZ = settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(request=requests(WEBHOOK_PATHS))
def test_webhook_routes_never_fail_and_store_only_accepted(
    running: Running, request: FuzzRequest
) -> None:
    before = running.count()
    response = running.send(request)
    check_answer(request, response, running.count() - before)


@settings(FUZZ, max_examples=1000)
@given(request=requests(API_PATHS))
def test_api_routes_never_fail(running: Running, request: FuzzRequest) -> None:
    before = running.count()
    response = running.send(request)
    check_answer(request, response, running.count() - before)
