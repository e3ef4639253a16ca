"""Stands in for the engine when redis-py is not installed: opening says how to get it."""

from __future__ import annotations

from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.errors import DriverMissing


class RedisStorage:
    """Refuses to open: the redis engine's driver is missing."""

    @classmethod
    async def open(cls, url: str, *, clock: Clock, create: bool = True) -> RedisStorage:
        raise DriverMissing(
            "the redis engine needs the redis-py driver: "
            "pip install 'relayarr[redis]' (or: pip install 'redis>=5.3')",
            where="redis://",
        )
