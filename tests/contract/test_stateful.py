"""Every engine in conftest.ENGINES against the model of the storage (random histories)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.storage import StorageEngine, open_storage
from relayarr.jobqueue.testing.model import StorageMachine, check_against_model

FreshDatabase = Callable[[], AbstractAsyncContextManager[str]]  # as in conftest.py


def test_storage_behaves_like_the_model(fresh_database: FreshDatabase) -> None:
    class EngineMachine(StorageMachine):
        @asynccontextmanager
        async def storage_for(self, clock: Clock) -> AsyncIterator[StorageEngine]:
            async with fresh_database() as url:
                storage = await open_storage(url, clock=clock)
                try:
                    yield storage
                finally:
                    await storage.aclose()

    check_against_model(EngineMachine)
