"""The ``relayarr`` console script against each real server engine (tests/servers.py):
PostgreSQL and Redis.

The commands work on a ``postgresql://`` or ``redis://`` URL, and every way of not reaching
the queue (unreachable server, wrong password, missing database, no schema or queue yet)
ends with one ``error: ...`` line naming the URL without its password, a non-zero exit and
no traceback. The scenarios are the same for every engine; the URLs and each engine's
wording of the errors are the ``ENGINES`` table.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servers import (
    POSTGRES_PASSWORD,
    REDIS_PASSWORD,
    postgres_database,
    postgres_server,
    redis_server,
)

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
    for secret in secrets:
        assert secret not in result.stdout + result.stderr
    return lines[0]


@dataclass(frozen=True)
class Queue:
    """A fresh, empty queue of one test's own (no schema yet), and how errors name it."""

    url: str
    shown: str  # in an error about ``url``
    wrong_password_url: str  # the same server with a wrong password
    wrong_password_shown: str


@contextlib.contextmanager
def postgres_queue() -> Iterator[Queue]:
    with postgres_database() as (server, name):
        shown = server.url(name, password=None)
        yield Queue(server.url(name), shown, server.url(name, password="not-the-password"), shown)


@contextlib.contextmanager
def redis_queue() -> Iterator[Queue]:
    server = redis_server()
    prefix = f"cli{os.urandom(6).hex()}:"
    try:
        yield Queue(
            server.url(prefix=prefix),
            prefix,
            server.url(password="not-the-password"),
            f"redis://127.0.0.1:{server.port}/0",
        )
    finally:
        server.delete_prefix(prefix)


@dataclass(frozen=True)
class Engine:
    """What differs between the engines: URLs, and how each words its errors."""

    password: str  # the test server's, never printed
    fresh_queue: Callable[[], AbstractContextManager[Queue]]
    unreachable_url: Callable[[int], str]  # a URL on a loopback port nobody listens on
    unreachable_shown: Callable[[int], str]
    unreachable_error: str
    wrong_password_error: str
    missing_database: Callable[[], tuple[str, str]]  # (url, how the error names it)
    missing_database_error: str
    query_password_url: Callable[[], str]  # password=hunter2-secret in the query string
    query_password_shown: Callable[[], tuple[str, ...]]  # what the error still says


def postgres_missing_database() -> tuple[str, str]:
    server = postgres_server()
    return server.url("no_such_database"), server.url("no_such_database", password=None)


def redis_missing_database() -> tuple[str, str]:
    server = redis_server()
    return server.url(db=99), f"redis://127.0.0.1:{server.port}/99"  # the server has 16


def redis_query_password_shown() -> tuple[str, ...]:
    return ("credentials", f"redis://127.0.0.1:{redis_server().port}/0")


ENGINES = {
    "postgresql": Engine(
        password=POSTGRES_PASSWORD,
        fresh_queue=postgres_queue,
        unreachable_url=lambda port: (
            f"postgresql://relay:{POSTGRES_PASSWORD}@127.0.0.1:{port}/queue"
        ),
        unreachable_shown=lambda port: f"postgresql://relay@127.0.0.1:{port}/queue",
        unreachable_error="cannot reach the PostgreSQL server",
        wrong_password_error="password authentication failed",
        missing_database=postgres_missing_database,
        missing_database_error='database "no_such_database" does not exist',
        query_password_url=lambda: (
            f"postgresql://postgres@127.0.0.1:{postgres_server().port}/nope?password=hunter2-secret"
        ),
        query_password_shown=lambda: ("nope",),
    ),
    "redis": Engine(
        password=REDIS_PASSWORD,
        fresh_queue=redis_queue,
        unreachable_url=lambda port: f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0",
        unreachable_shown=lambda port: f"redis://127.0.0.1:{port}/0",
        unreachable_error="cannot reach Redis",
        wrong_password_error="credentials",
        missing_database=redis_missing_database,
        missing_database_error="no such database",
        query_password_url=lambda: (
            f"redis://127.0.0.1:{redis_server().port}/0?password=hunter2-secret"
        ),
        query_password_shown=redis_query_password_shown,
    ),
}


@pytest.fixture(params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> Engine:
    name: str = request.param
    return ENGINES[name]


@pytest.fixture
def queue(engine: Engine) -> Iterator[Queue]:
    with engine.fresh_queue() as found:
        yield found


def test_migrate_enqueue_list_and_stats(tmp_path: Path, queue: Queue) -> None:
    url = queue.url
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


def test_unreachable_server(tmp_path: Path, engine: Engine) -> None:
    with socket.socket() as sock:  # a loopback port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = engine.unreachable_url(port)
        line = one_error_line(run(tmp_path, url, "jobs", "list"), engine.password)
    assert engine.unreachable_error in line
    assert engine.unreachable_shown(port) in line


def test_wrong_password(tmp_path: Path, engine: Engine, queue: Queue) -> None:
    result = run(tmp_path, queue.wrong_password_url, "stats")
    line = one_error_line(result, engine.password, "not-the-password")
    assert engine.wrong_password_error in line
    assert queue.wrong_password_shown in line


def test_no_password_where_one_is_needed(tmp_path: Path) -> None:
    """Redis only: no password in the URL, on a server that requires one."""
    url = f"redis://127.0.0.1:{redis_server().port}/0"
    line = one_error_line(run(tmp_path, url, "stats"), REDIS_PASSWORD)
    assert "credentials" in line


def test_wrong_database(tmp_path: Path, engine: Engine) -> None:
    url, shown = engine.missing_database()
    line = one_error_line(run(tmp_path, url, "migrate"), engine.password)
    assert engine.missing_database_error in line
    assert shown in line


def test_unmigrated_queue_asks_for_migrate(tmp_path: Path, engine: Engine, queue: Queue) -> None:
    line = one_error_line(run(tmp_path, queue.url, "jobs", "list"), engine.password)
    assert "relayarr migrate" in line
    assert queue.shown in line


def test_password_in_the_query_string_is_never_shown(tmp_path: Path, engine: Engine) -> None:
    result = run(tmp_path, engine.query_password_url(), "stats")
    line = one_error_line(result, engine.password, "hunter2-secret")
    for expected in engine.query_password_shown():
        assert expected in line
