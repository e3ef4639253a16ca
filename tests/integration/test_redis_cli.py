"""The ``relayarr`` console script against a real redis-server (tests/servers.py).

The commands work on a ``redis://`` URL, and every way of not reaching the queue
(unreachable server, wrong password, no such database, no queue yet) ends with one
``error: ...`` line naming the URL without its password, a non-zero exit and no traceback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servers import REDIS_PASSWORD, RedisServer, redis_server

pytestmark = pytest.mark.slow

DEADLINE = 60.0  # seconds; only against hanging


def relayarr_command() -> list[str]:
    script = Path(sys.executable).with_name("relayarr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "relayarr"]


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def run(tmp_path: Path, url: str, *args: str) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
    completed = subprocess.run(
        [*relayarr_command(), "--queue-url", url, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def ok_json(tmp_path: Path, url: str, *args: str) -> Any:
    result = run(tmp_path, url, *args, "--json")
    assert result.code == 0, result
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)


def one_error_line(result: Result, *secrets: str) -> str:
    assert result.code != 0, result
    assert "Traceback" not in result.stdout + result.stderr, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for secret in (REDIS_PASSWORD, *secrets):
        assert secret not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture
def server() -> RedisServer:
    return redis_server()


@pytest.fixture
def prefix(server: RedisServer) -> Iterator[str]:
    """A key prefix of this test's own, its keys deleted afterwards."""
    name = f"cli{os.urandom(6).hex()}:"
    yield name
    server.delete_prefix(name)


def test_migrate_enqueue_list_and_stats(tmp_path: Path, server: RedisServer, prefix: str) -> None:
    url = server.url(prefix=prefix)
    for _ in range(2):  # migrate is safe to run again
        result = run(tmp_path, url, "migrate")
        assert result.code == 0, result
    job = ok_json(tmp_path, url, "enqueue", "scan-movie", "--payload", '{"path": "/m/Alien"}')
    assert (job["type"], job["status"], job["payload"]) == (
        "scan-movie",
        "pending",
        {"path": "/m/Alien"},
    )
    again = ok_json(tmp_path, url, "enqueue", "scan-movie", "--unique-key", "k")
    same = ok_json(tmp_path, url, "enqueue", "scan-movie", "--unique-key", "k")
    assert (again["created"], same["created"], same["id"]) == (True, False, again["id"])
    listed = ok_json(tmp_path, url, "jobs", "list")
    assert [entry["id"] for entry in listed["jobs"]] == [again["id"], job["id"]]
    shown = ok_json(tmp_path, url, "jobs", "show", str(job["id"]))
    assert shown["payload"] == {"path": "/m/Alien"}
    cancelled = run(tmp_path, url, "jobs", "cancel", str(job["id"]))
    assert cancelled.code == 0, cancelled
    stats = ok_json(tmp_path, url, "stats")
    assert stats["by_type"]["scan-movie"]["pending"] == 1
    assert stats["by_type"]["scan-movie"]["cancelled"] == 1


def test_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0"
        line = one_error_line(run(tmp_path, url, "jobs", "list"))
    assert "cannot reach Redis" in line
    assert f"redis://127.0.0.1:{port}/0" in line


def test_wrong_password(tmp_path: Path, server: RedisServer) -> None:
    url = server.url(password="not-the-password")
    line = one_error_line(run(tmp_path, url, "stats"), "not-the-password")
    assert "credentials" in line
    assert f"redis://127.0.0.1:{server.port}/0" in line


def test_no_password_where_one_is_needed(tmp_path: Path, server: RedisServer) -> None:
    line = one_error_line(run(tmp_path, f"redis://127.0.0.1:{server.port}/0", "stats"))
    assert "credentials" in line


def test_wrong_database(tmp_path: Path, server: RedisServer) -> None:
    url = server.url(db=99)  # the server has 16
    line = one_error_line(run(tmp_path, url, "migrate"))
    assert "no such database" in line
    assert f"redis://127.0.0.1:{server.port}/99" in line


def test_unmigrated_queue_asks_for_migrate(
    tmp_path: Path, server: RedisServer, prefix: str
) -> None:
    line = one_error_line(run(tmp_path, server.url(prefix=prefix), "jobs", "list"))
    assert "relayarr migrate" in line
    assert prefix in line


def test_password_in_the_query_string_is_never_shown(tmp_path: Path, server: RedisServer) -> None:
    url = f"redis://127.0.0.1:{server.port}/0?password=hunter2-secret"
    line = one_error_line(run(tmp_path, url, "stats"), "hunter2-secret")
    assert "credentials" in line
    assert f"redis://127.0.0.1:{server.port}/0" in line
