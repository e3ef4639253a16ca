"""The unit tests' MemoryStorage against the conformance suite every engine passes: the
contract tests and the model of random histories. The fake cannot drift from the engines
without one of these failing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fakes import MemoryDatabase, MemoryStorage

from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.storage import StorageEngine
from relayarr.jobqueue.testing import StorageContract
from relayarr.jobqueue.testing.model import StorageMachine, check_against_model


class TestMemoryStorageContract(StorageContract):
    """Every handle a test opens shares one in-memory database, as handles share a file."""

    database: MemoryDatabase | None = None

    async def make_storage(self, clock: Clock) -> StorageEngine:
        if self.database is None:
            self.database = MemoryDatabase()
        return MemoryStorage(clock, database=self.database)


def test_memory_storage_behaves_like_the_model() -> None:
    class MemoryMachine(StorageMachine):
        @asynccontextmanager
        async def storage_for(self, clock: Clock) -> AsyncIterator[StorageEngine]:
            yield MemoryStorage(clock)

    check_against_model(MemoryMachine)
