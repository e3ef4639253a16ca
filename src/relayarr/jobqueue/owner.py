"""Worker identity, and telling whether a worker on this machine is dead.

An owner id is ``hostname:pid:start-ticks:random``. The start ticks (field 22 of
``/proc/<pid>/stat``, the process start time in clock ticks since boot) make the id
survive pid reuse: a new process that got the same pid has different ticks, so the old
owner is still recognised as dead. The random part tells apart several queues in one
process.

Only owners on this host can be judged locally; for any other host the answer is "not
known dead", and their leases are left to expire.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

UNKNOWN_TICKS = "0"  # no /proc (not Linux): the pid alone is checked
GONE_STATES = frozenset("ZXx")  # zombie, dead: the pid exists but the worker is over


@dataclass(frozen=True, slots=True)
class OwnerId:
    """The parts of an owner id."""

    hostname: str
    pid: int
    start_ticks: str
    nonce: str

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}:{self.start_ticks}:{self.nonce}"


def process_start_ticks(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot, or None if it is not running.

    A zombie (killed, not yet reaped by its parent) is not running: its ``/proc`` entry
    lingers, but it will never renew a lease again. Returns :data:`UNKNOWN_TICKS` when
    ``/proc`` is not available.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            raw = stat.read().decode("ascii", "replace")
    except FileNotFoundError:
        if not os.path.isdir("/proc/self"):
            return UNKNOWN_TICKS if _pid_exists(pid) else None
        return None
    except (PermissionError, ProcessLookupError):
        return UNKNOWN_TICKS if _pid_exists(pid) else None
    # Field 2 (comm) may hold spaces and parentheses; the fields after its last ")" are
    # reliable. That tail starts at field 3 (the state), so field 22 is index 19.
    fields = raw[raw.rfind(")") + 2 :].split()
    if fields and fields[0] in GONE_STATES:
        return None
    if len(fields) < 20:
        return UNKNOWN_TICKS
    return fields[19]


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just someone else's
    return True


def make_owner() -> str:
    """A fresh owner id for this process: ``hostname:pid:start-ticks:random``."""
    pid = os.getpid()
    ticks = process_start_ticks(pid) or UNKNOWN_TICKS
    return str(OwnerId(socket.gethostname(), pid, ticks, secrets.token_hex(4)))


def parse_owner(owner: str) -> OwnerId | None:
    """Split an owner id into its parts; None when it is not one of ours."""
    # rsplit: only the hostname could conceivably hold a ":".
    parts = owner.rsplit(":", 3)
    if len(parts) != 4:
        return None
    hostname, pid, ticks, nonce = parts
    if not hostname or not pid.isdigit() or not ticks.isdigit():
        return None
    return OwnerId(hostname, int(pid), ticks, nonce)


def is_dead_local(owner: str, hostname: str | None = None) -> bool:
    """True only when ``owner`` ran on this host and its process is gone (or was replaced).

    Never true for another host, for the current process, or for an id this module did not
    make: a wrong "dead" would let two workers run the same job, a wrong "alive" only
    waits for the lease to expire.
    """
    parsed = parse_owner(owner)
    if parsed is None or parsed.hostname != (hostname or socket.gethostname()):
        return False
    if parsed.pid <= 0:
        return False
    # The same pid with other start ticks is an earlier process (a container's pid 1
    # after a restart, say): dead. The same pid and ticks is this very process: alive.
    ticks = process_start_ticks(parsed.pid)
    if ticks is None:
        return True
    if UNKNOWN_TICKS in (ticks, parsed.start_ticks):
        return False  # cannot tell pid reuse apart: the pid is in use, assume alive
    return ticks != parsed.start_ticks


__all__ = ["OwnerId", "is_dead_local", "make_owner", "parse_owner", "process_start_ticks"]
