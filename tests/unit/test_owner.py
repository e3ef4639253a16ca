"""Owner ids and local dead-owner detection, including pid reuse."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from relayarr.jobqueue.owner import (
    OwnerId,
    is_dead_local,
    make_owner,
    parse_owner,
    process_start_ticks,
)

HOST = socket.gethostname()


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def _gone_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_make_owner_names_host_pid_start_ticks_and_a_nonce() -> None:
    owner = make_owner()
    parsed = parse_owner(owner)
    assert parsed is not None
    assert (parsed.hostname, parsed.pid) == (HOST, os.getpid())
    assert parsed.start_ticks == process_start_ticks(os.getpid())
    assert parsed.start_ticks != "0"  # this is Linux: /proc gives real start ticks
    assert make_owner() != owner  # the nonce tells queues of one process apart


def test_start_ticks_come_from_proc_stat_field_22() -> None:
    with open("/proc/self/stat") as stat:
        expected = stat.read().rsplit(")", 1)[1].split()[19]
    assert process_start_ticks(os.getpid()) == expected


def test_the_current_process_is_never_dead() -> None:
    assert not is_dead_local(make_owner())


def test_a_live_local_process_is_not_dead(sleeper: subprocess.Popen[bytes]) -> None:
    ticks = process_start_ticks(sleeper.pid)
    assert ticks is not None
    assert not is_dead_local(str(OwnerId(HOST, sleeper.pid, ticks, "x")))


def test_a_gone_local_process_is_dead() -> None:
    assert is_dead_local(f"{HOST}:{_gone_pid()}:12345:x")


def test_a_zombie_is_dead() -> None:
    # Killed but not reaped: /proc/<pid>/stat still exists, with the same start ticks.
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ticks = process_start_ticks(process.pid)
    assert ticks is not None
    try:
        process.kill()
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # dead, left unreaped
        assert os.path.exists(f"/proc/{process.pid}/stat")
        assert is_dead_local(str(OwnerId(HOST, process.pid, ticks, "x")))
    finally:
        process.wait()


def test_a_reused_pid_is_dead(sleeper: subprocess.Popen[bytes]) -> None:
    # Same pid, different start ticks: the owner was an earlier process with that pid.
    ticks = process_start_ticks(sleeper.pid)
    assert ticks is not None
    assert is_dead_local(str(OwnerId(HOST, sleeper.pid, str(int(ticks) - 1), "x")))
    assert is_dead_local(str(OwnerId(HOST, os.getpid(), "1", "x")))


def test_other_hosts_are_never_judged() -> None:
    assert not is_dead_local(f"some-other-host:{_gone_pid()}:12345:x")
    assert is_dead_local(f"box:{_gone_pid()}:12345:x", hostname="box")


@pytest.mark.parametrize("owner", ["", "worker-1", "host:notapid:1:x", "host:1:ticks:x", ":1:1:x"])
def test_foreign_ids_are_never_dead(owner: str) -> None:
    assert parse_owner(owner) is None
    assert not is_dead_local(owner)


def test_a_hostname_with_a_colon_survives_a_round_trip() -> None:
    owner = OwnerId("fe80::1", 42, "777", "ab")
    assert parse_owner(str(owner)) == owner
