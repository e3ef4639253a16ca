"""Test support shipped with the library: the storage conformance suite.

Needs pytest (and pytest-asyncio in auto mode); import it only from tests.
"""

from relayarr.jobqueue.testing.base import START, ContractBase, new_job
from relayarr.jobqueue.testing.contract import StorageContract

__all__ = ["START", "ContractBase", "StorageContract", "new_job"]
