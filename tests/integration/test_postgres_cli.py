"""The ``relayarr`` console script against a real PostgreSQL (tests/servers.py).

The commands work on a ``postgresql://`` URL, and every way of not reaching the database
(unreachable server, wrong password, missing database, no schema yet) ends with one
``error: ...`` line naming the URL without its password, a non-zero exit and no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servers import POSTGRES_PASSWORD, PostgresServer, postgres_database

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


def one_error_line(result: Result) -> str:
    assert result.code != 0, result
    assert "Traceback" not in result.stdout + result.stderr, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert POSTGRES_PASSWORD not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture
def database() -> Iterator[tuple[PostgresServer, str]]:
    """(server, name) of an empty database of its own, dropped afterwards."""
    with postgres_database() as found:
        yield found


def test_migrate_enqueue_list_and_stats(
    tmp_path: Path, database: tuple[PostgresServer, str]
) -> None:
    server, name = database
    url = server.url(name)
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
    import socket

    with socket.socket() as sock:  # a loopback port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"postgresql://relay:{POSTGRES_PASSWORD}@127.0.0.1:{port}/queue"
        line = one_error_line(run(tmp_path, url, "jobs", "list"))
    assert "cannot reach the PostgreSQL server" in line
    assert f"postgresql://relay@127.0.0.1:{port}/queue" in line


def test_wrong_password(tmp_path: Path, database: tuple[PostgresServer, str]) -> None:
    server, name = database
    url = server.url(name, password="not-the-password")
    line = one_error_line(run(tmp_path, url, "stats"))
    assert "password authentication failed" in line
    assert "not-the-password" not in line
    assert server.url(name, password=None) in line


def test_wrong_database(tmp_path: Path) -> None:
    from servers import postgres_server

    server = postgres_server()
    url = server.url("no_such_database")
    line = one_error_line(run(tmp_path, url, "migrate"))
    assert 'database "no_such_database" does not exist' in line
    assert server.url("no_such_database", password=None) in line


def test_unmigrated_database_asks_for_migrate(
    tmp_path: Path, database: tuple[PostgresServer, str]
) -> None:
    server, name = database
    line = one_error_line(run(tmp_path, server.url(name), "jobs", "list"))
    assert "relayarr migrate" in line
    assert server.url(name, password=None) in line


def test_password_in_the_query_string_is_never_shown(tmp_path: Path) -> None:
    from servers import postgres_server

    server = postgres_server()
    url = f"postgresql://postgres@127.0.0.1:{server.port}/nope?password=hunter2-secret"
    line = one_error_line(run(tmp_path, url, "stats"))
    assert "hunter2-secret" not in line
    assert "nope" in line
