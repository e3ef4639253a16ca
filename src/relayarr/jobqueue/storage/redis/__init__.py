"""The Redis engine: one queue shared by worker processes on several machines.

``redis://[[user]:password@]host:port/db`` or ``rediss://`` (TLS); options ``prefix``
(default ``relayarr:``, so several queues can share one database) and ``retry_for``
(seconds an operation waits out an unreachable server, default 30) and ``event_retention``
(about how many events the shared event log keeps, default 100,000). See :mod:`.options`.
The shared event log is a Redis stream with integer ids (see :mod:`.eventlog`).

Every state change is one Lua script (``*.lua`` beside this file), atomic on the server,
so nothing is ever half-applied; the keys and structures are described in ``_lib.lua``.
Completions and failures asked together travel as one script call, each job in it fenced
and applied alone (see :mod:`.coalesce`).
Every "now" is the injected clock's, passed to the scripts, never the server's TIME.

Durability: run Redis with ``appendonly yes``. With ``appendfsync everysec`` (Redis's
default for AOF) a crash of Redis alone loses nothing and a crash of the *machine* may lose
about the last second of changes; ``appendfsync always`` loses nothing even then, at an
fsync per write. Without AOF (RDB snapshots only, or no persistence) a restart loses every
change since the last snapshot: finished jobs come back, new jobs vanish. A warning is
logged at open when ``appendonly`` is off.

Not supported: Redis Cluster (the scripts touch keys they compute, across slots).
"""

from __future__ import annotations

from relayarr.jobqueue.errors import DriverMissing

try:
    from relayarr.jobqueue.storage.redis.engine import RedisStorage
except ModuleNotFoundError as exc:
    if (exc.name or "").partition(".")[0] != "redis":
        raise
    from relayarr.jobqueue.storage.redis.missing import (  # type: ignore[assignment]
        RedisStorage,
    )

__all__ = ["DriverMissing", "RedisStorage"]
