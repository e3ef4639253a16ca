"""The conformance suite every storage engine must pass, written once against the Protocol.

An engine's test module subclasses :class:`StorageContract` and implements one hook,
``make_storage``; every test then runs unchanged against that engine::

    import pytest
    from relayarr.jobqueue.clock import Clock
    from relayarr.jobqueue.storage import StorageEngine, open_storage
    from relayarr.jobqueue.testing import StorageContract

    class TestMyEngine(StorageContract):
        @pytest.fixture(autouse=True)
        def _database(self, tmp_path):          # a fresh, empty database per test
            self.url = f"sqlite:///{tmp_path}/q.db"

        async def make_storage(self, clock: Clock) -> StorageEngine:
            return await open_storage(self.url, clock=clock)

Rules the suite keeps, so it stays the same for every engine:

* no engine-specific overrides: a real difference is a :class:`Capabilities` flag, branched on
  visibly inside the test that needs it;
* time comes from a :class:`~relayarr.jobqueue.clock.FakeClock`: nothing sleeps, lease expiry
  is the clock moving past ``lease_seconds``;
* where the Protocol leaves room, a test picks the stricter reasonable reading and says so in
  its docstring.

The suite is split by concern: adding, claiming, leases, transitions, history, breakers, the
shared event log, wake-ups across handles and ping.
"""

from __future__ import annotations

from relayarr.jobqueue.testing.adding import AddingContract
from relayarr.jobqueue.testing.breakers import BreakerContract
from relayarr.jobqueue.testing.claiming import ClaimingContract
from relayarr.jobqueue.testing.events import EventLogContract
from relayarr.jobqueue.testing.history import HistoryContract
from relayarr.jobqueue.testing.leases import LeaseContract
from relayarr.jobqueue.testing.ping import PingContract
from relayarr.jobqueue.testing.transitions import TransitionContract
from relayarr.jobqueue.testing.wakeups import WakeupContract


class StorageContract(
    AddingContract,
    ClaimingContract,
    LeaseContract,
    TransitionContract,
    HistoryContract,
    BreakerContract,
    EventLogContract,
    WakeupContract,
    PingContract,
):
    """Every storage test. Subclass it, name the subclass ``Test...``, give ``make_storage``."""


__all__ = ["StorageContract"]
