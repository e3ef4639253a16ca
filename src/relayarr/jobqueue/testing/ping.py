"""Contract: :meth:`Storage.ping` answers while the handle can reach its database.

That a stopped server makes it raise is each server engine's own test (it needs a server of
the test's own to stop); here, every engine's closed handle is the database gone away.
"""

from __future__ import annotations

import pytest

from relayarr.jobqueue.clock import FakeClock
from relayarr.jobqueue.errors import StorageError
from relayarr.jobqueue.storage import StorageEngine
from relayarr.jobqueue.testing.base import ContractBase


class PingContract(ContractBase):
    """ping()."""

    async def test_ping_returns_on_an_open_handle(self, storage: StorageEngine) -> None:
        await storage.ping()
        await self.add_job(storage)
        await storage.ping()

    async def test_ping_on_a_closed_handle_raises_storage_error(
        self, storage: StorageEngine, clock: FakeClock
    ) -> None:
        other = await self.another_handle(clock)
        await other.ping()
        await other.aclose()
        with pytest.raises(StorageError):
            await other.ping()
        await storage.ping()  # another handle on the same database is not affected
