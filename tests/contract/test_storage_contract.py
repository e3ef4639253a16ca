"""Every engine in conftest.ENGINES against the one conformance suite."""

from __future__ import annotations

import pytest

from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.storage import StorageEngine, open_storage
from relayarr.jobqueue.testing import StorageContract


class TestStorageContract(StorageContract):
    url: str

    @pytest.fixture(autouse=True)
    def _database(self, queue_url: str) -> None:
        self.url = queue_url

    async def make_storage(self, clock: Clock) -> StorageEngine:
        return await open_storage(self.url, clock=clock)
