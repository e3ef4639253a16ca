"""Fixtures of the metadata tests: the fake provider server, settings pointing at it,
an HTTP client, and providers that record their sleeps instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from relayarr.jobqueue.clock import FakeClock
from relayarr.metadata import (
    ContentStore,
    MemoryPublishStore,
    MemoryResponseCache,
    MetadataSettings,
    Providers,
    Publisher,
    build_providers,
)

from .fakes import FANART_KEY, TMDB_KEY, FakeState, LoopbackServer


class RecordingSleep:
    """Notes every delay asked for and yields once instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture(scope="session")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(FakeState()) as running:
        yield running


@pytest.fixture(autouse=True)
def fake(server: LoopbackServer) -> FakeState:
    """The fakes' state, fresh for each test (answers from the fixtures, no calls)."""
    state = server.state
    state.__init__()  # type: ignore[misc]
    state.base = server.url
    return state


def settings_for(url: str, **changes: object) -> MetadataSettings:
    values: dict[str, object] = {
        "tmdb_api_key": SecretStr(TMDB_KEY),
        "fanart_api_key": SecretStr(FANART_KEY),
        "tmdb_url": f"{url}/tmdb/3",
        "tmdb_image_url": f"{url}/img/tmdb/",
        "fanart_url": f"{url}/fanart/v3",
        "timeout": 5.0,
    }
    values.update(changes)
    return MetadataSettings.model_validate(values)


@pytest.fixture
def settings(server: LoopbackServer) -> MetadataSettings:
    return settings_for(server.url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps(clock: FakeClock) -> RecordingSleep:
    return RecordingSleep(clock)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


@pytest.fixture
def cache(clock: FakeClock) -> MemoryResponseCache:
    return MemoryResponseCache(clock)


@pytest.fixture
def providers(
    settings: MetadataSettings,
    client: httpx.AsyncClient,
    cache: MemoryResponseCache,
    clock: FakeClock,
    sleeps: RecordingSleep,
) -> Providers:
    return build_providers(settings, client, cache, clock=clock, sleep=sleeps)


@pytest.fixture
def store() -> MemoryPublishStore:
    return MemoryPublishStore()


@pytest.fixture
def publisher(
    settings: MetadataSettings,
    client: httpx.AsyncClient,
    store: MemoryPublishStore,
    tmp_path: Path,
    clock: FakeClock,
) -> Publisher:
    return Publisher(
        settings,
        client=client,
        store=store,
        content=ContentStore(tmp_path / "data" / "assets"),
        clock=clock,
    )
