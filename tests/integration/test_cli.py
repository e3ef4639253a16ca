"""The ``relayarr`` console script, run for real in subprocesses against a SQLite file.

Every expected failure must end with exactly one ``error: ...`` line on stderr, a non-zero
exit status and no traceback; database failures must name the file. Deadlines only stop a
broken run from hanging; nothing asserts how fast anything is.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

DEADLINE = 60.0  # seconds; only against hanging


def relayarr_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m relayarr``."""
    script = Path(sys.executable).with_name("relayarr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "relayarr"]


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """Runs ``relayarr`` in ``cwd`` with a clean RELAYARR_* environment."""

    def __init__(self, cwd: Path, url: str | None) -> None:
        self.cwd = cwd
        self.url = url
        self.env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}

    def argv(self, args: tuple[str, ...], url: str | None) -> list[str]:
        prefix = ["--queue-url", url] if url else []
        return [*relayarr_command(), *prefix, *args]

    def run(
        self,
        *args: str,
        url: str | None = "default",
        stdin: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        chosen = self.url if url == "default" else url
        completed = subprocess.run(
            self.argv(args, chosen),
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    def ok(self, *args: str, **options: Any) -> Result:
        result = self.run(*args, **options)
        assert result.code == 0, result
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def json(self, *args: str, **options: Any) -> Any:
        return self.ok(*args, "--json", **options).json()

    def fails(self, *args: str, **options: Any) -> str:
        """Run a command that must fail cleanly; returns its one error line."""
        return one_error_line(self.run(*args, **options))


def one_error_line(result: Result) -> str:
    assert result.code != 0, result
    assert "Traceback" not in result.stdout + result.stderr, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "queue.db"


@pytest.fixture
def cli(tmp_path: Path, db: Path) -> Cli:
    return Cli(tmp_path, f"sqlite:///{db}")


@pytest.fixture
def migrated(cli: Cli) -> Cli:
    cli.ok("migrate")
    return cli


def enqueue(cli: Cli, job_type: str, *args: str, **options: Any) -> dict[str, Any]:
    job: dict[str, Any] = cli.json("enqueue", job_type, *args, **options)
    return job


def listed(cli: Cli, *args: str) -> list[int]:
    return [job["id"] for job in cli.json("jobs", "list", *args)["jobs"]]


# -- migrate and where the database lives --------------------------------------------------


def test_migrate_creates_the_database_and_can_run_again(cli: Cli, db: Path) -> None:
    first = cli.ok("migrate")
    assert db.is_file()
    assert str(db) in first.stdout
    again = cli.json("migrate")
    library = again.pop("library")
    assert again == {"engine": "sqlite", "where": str(db), "schema": "up to date"}
    assert library["where"].endswith("library.db")
    assert library["revision"]
    assert (cli.cwd / "data" / "library.db").is_file()


def test_default_database_is_under_data(tmp_path: Path) -> None:
    cli = Cli(tmp_path, url=None)
    cli.ok("migrate")
    assert (tmp_path / "data" / "queue.db").is_file()
    cli.ok("migrate", env={"RELAYARR_DATA_DIR": "elsewhere"})
    assert (tmp_path / "elsewhere" / "queue.db").is_file()


def test_queue_url_from_config_then_environment_then_flag(tmp_path: Path) -> None:
    cli = Cli(tmp_path, url=None)
    config = tmp_path / "relayarr.toml"
    config.write_text('[queue]\nurl = "sqlite:///from-config.db"\n', encoding="utf-8")
    cli.ok("--config", str(config), "migrate")
    assert (tmp_path / "from-config.db").is_file()
    env = {"RELAYARR_CONFIG": str(config), "RELAYARR_QUEUE_URL": "sqlite:///from-env.db"}
    cli.ok("migrate", env=env)
    assert (tmp_path / "from-env.db").is_file()
    cli.ok("migrate", url="sqlite:///from-flag.db", env=env)
    assert (tmp_path / "from-flag.db").is_file()


# -- adding, looking, steering -------------------------------------------------------------


def test_enqueue_then_show(migrated: Cli) -> None:
    payload = {"path": "/movies/Alien (1979)", "n": [1, 2]}
    job = enqueue(
        migrated,
        "scan-movie",
        "--payload",
        json.dumps(payload),
        "--priority",
        "2",
        "--delay",
        "3600",
        "--max-attempts",
        "7",
        "--unique-key",
        "alien",
    )
    assert job["created"] is True
    assert (job["type"], job["status"], job["payload"]) == ("scan-movie", "pending", payload)
    assert (job["priority"], job["max_attempts"], job["unique_key"]) == (2, 7, "alien")
    assert job["run_at"] > job["created_at"]
    shown = migrated.json("jobs", "show", str(job["id"]))
    assert shown == {key: value for key, value in job.items() if key != "created"}
    assert "lease_token" not in shown
    human = migrated.ok("jobs", "show", str(job["id"])).stdout
    assert "scan-movie" in human
    assert "/movies/Alien (1979)" in human


def test_enqueue_payload_from_stdin(migrated: Cli) -> None:
    job = enqueue(migrated, "x", "--payload", "-", stdin='{"from": "stdin"}')
    assert job["payload"] == {"from": "stdin"}


def test_unique_key_returns_the_active_job(migrated: Cli) -> None:
    first = enqueue(migrated, "scan", "--unique-key", "/m")
    second = enqueue(migrated, "scan", "--unique-key", "/m", "--payload", '{"other": 1}')
    assert second["created"] is False
    assert second["id"] == first["id"]
    assert second["payload"] == {}
    assert "already holds unique key" in migrated.ok("enqueue", "scan", "--unique-key", "/m").stdout


def test_list_filters_by_type_and_status_and_pages(migrated: Cli) -> None:
    a1 = enqueue(migrated, "a")["id"]
    b1 = enqueue(migrated, "b")["id"]
    a2 = enqueue(migrated, "a")["id"]
    migrated.ok("jobs", "cancel", str(b1))
    assert listed(migrated) == [a2, b1, a1]
    assert listed(migrated, "--type", "a") == [a2, a1]
    assert listed(migrated, "--status", "cancelled") == [b1]
    assert listed(migrated, "--status", "pending", "--status", "cancelled", "--type", "b") == [b1]

    page = migrated.json("jobs", "list", "--limit", "2")
    assert [job["id"] for job in page["jobs"]] == [a2, b1]
    assert page["next_cursor"] == b1
    rest = migrated.json("jobs", "list", "--limit", "2", "--cursor", str(page["next_cursor"]))
    assert [job["id"] for job in rest["jobs"]] == [a1]
    assert rest["next_cursor"] is None

    table = migrated.ok("jobs", "list", "--limit", "2").stdout
    assert "cancelled" in table
    assert f"--cursor {b1}" in table


def test_cancel_then_retry(migrated: Cli) -> None:
    job_id = str(enqueue(migrated, "scan")["id"])
    cancelled = migrated.json("jobs", "cancel", job_id)
    assert cancelled["status"] == "cancelled"
    assert cancelled["finished_at"] is not None
    retried = migrated.json("jobs", "retry", job_id)
    assert (retried["status"], retried["attempts"]) == ("pending", 0)
    assert migrated.json("jobs", "show", job_id)["status"] == "pending"
    assert "cancelled" in migrated.ok("jobs", "cancel", job_id).stdout


def test_prune_by_count_and_status_then_by_age(migrated: Cli) -> None:
    active = enqueue(migrated, "keep-me")["id"]
    cancelled = [enqueue(migrated, "c")["id"] for _ in range(3)]
    for job_id in cancelled:
        migrated.ok("jobs", "cancel", str(job_id))

    assert migrated.json("jobs", "prune", "--status", "completed", "--keep", "0") == {"deleted": 0}
    assert migrated.json("jobs", "prune", "--keep", "1", "--status", "cancelled") == {"deleted": 2}
    assert listed(migrated, "--status", "cancelled") == [cancelled[-1]]

    pruned = migrated.ok("jobs", "prune", "--older-than", "0s")
    assert "pruned 1 finished job" in pruned.stdout
    assert listed(migrated) == [active]  # active jobs are never pruned


def test_stats_counts_by_type_and_status(migrated: Cli) -> None:
    for job_type in ("a", "a", "b"):
        enqueue(migrated, job_type)
    migrated.ok("jobs", "cancel", "3")
    stats = migrated.json("stats")
    assert stats["by_type"]["a"]["pending"] == 2
    assert stats["by_type"]["b"] == {
        "pending": 0,
        "processing": 0,
        "completed": 0,
        "failed": 0,
        "cancelled": 1,
    }
    assert stats["totals"]["pending"] == 2
    assert stats["oldest_pending_age"] >= 0
    assert stats["finished_last_minute"] == 1
    table = migrated.ok("stats").stdout
    assert "total" in table
    assert "finished in the last minute: 1" in table


# -- bad input: one line, non-zero, no traceback -------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("jobs", "list"),
        ("jobs", "show", "1"),
        ("jobs", "cancel", "1"),
        ("jobs", "retry", "1"),
        ("jobs", "prune", "--keep", "0"),
        ("stats",),
        ("enqueue", "scan"),
    ],
)
def test_missing_database_is_named_and_not_created(
    cli: Cli, db: Path, command: tuple[str, ...]
) -> None:
    line = cli.fails(*command)
    assert "does not exist" in line
    assert "relayarr migrate" in line
    assert str(db) in line
    assert not db.exists()


def test_unmigrated_database_asks_for_migrate(cli: Cli, db: Path) -> None:
    db.write_bytes(b"")
    line = cli.fails("jobs", "list")
    assert "relayarr migrate" in line
    assert str(db) in line


def test_corrupt_database_is_named(cli: Cli, db: Path) -> None:
    db.write_bytes(os.urandom(8192))
    for command in (("jobs", "list"), ("migrate",)):
        line = cli.fails(*command)
        assert "corrupt" in line
        assert str(db) in line


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make files and directories read-only; as root (where modes are not enforced) with
    ``chattr +i``, or skip when that is not possible here."""
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in paths}
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root, where file modes are not enforced, and chattr is missing")
    done: list[Path] = []
    try:
        for path in paths:
            result = subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False)
            if result.returncode != 0:
                pytest.skip(
                    "running as root, where file modes are not enforced, and chattr +i "
                    f"failed here: {result.stderr.decode(errors='replace').strip()}"
                )
            done.append(path)
        yield
    finally:
        for path in reversed(done):
            subprocess.run([chattr, "-i", str(path)], check=True)


def test_read_only_database_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "queue.db"
    cli = Cli(tmp_path, f"sqlite:///{db}")
    cli.ok("migrate")
    enqueue(cli, "x")
    with read_only(db, folder):
        line = cli.fails("enqueue", "x")
        assert str(db) in line
        assert "read-only" in line or "cannot open" in line
        assert cli.fails("migrate").endswith(f"({db})")
    assert listed(cli) == [1]  # nothing was added


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes stdin
conn.rollback()
"""


@contextmanager
def locked(db: Path) -> Iterator[None]:
    """Another process holds an exclusive lock on ``db`` until the block ends."""
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        yield
    finally:
        assert locker.stdin is not None
        assert locker.stdout is not None
        locker.stdin.close()
        locker.wait(timeout=DEADLINE)
        locker.stdout.close()


def test_locked_database_is_named(migrated: Cli, db: Path) -> None:
    job_id = enqueue(migrated, "x")["id"]
    url = f"sqlite:///{db}?busy_timeout=0.5"
    with locked(db):
        for command in (("enqueue", "x"), ("jobs", "cancel", str(job_id)), ("migrate",)):
            line = migrated.fails(*command, url=url)
            assert "locked" in line
            assert line.endswith(f"({db})")
    assert listed(migrated, "--status", "pending") == [job_id]  # nothing changed


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--payload", "{not json"), "--payload is not valid JSON"),
        (("--payload", "[1, 2]"), "must be a JSON object"),
        (("--payload", "null"), "must be a JSON object"),
        (("--priority", "0"), "priority must be an integer from 1"),
        (("--priority", "11"), "priority must be an integer from 1"),
        (("--delay", "-1"), "delay must be a finite number of seconds >= 0"),
        (("--max-attempts", "0"), "max_attempts must be an integer >= 1"),
        (("--debounce",), "debounce needs a unique_key"),
        (("--strict",), "unknown job type 'scan'"),
    ],
)
def test_bad_job_is_refused_and_nothing_stored(
    migrated: Cli, args: tuple[str, ...], expected: str
) -> None:
    assert expected in migrated.fails("enqueue", "scan", *args)
    assert listed(migrated) == []


def test_empty_job_type_is_refused(migrated: Cli) -> None:
    assert "job type must be a non-empty string" in migrated.fails("enqueue", "")


@pytest.mark.parametrize("command", [("show", "999"), ("cancel", "999"), ("retry", "999")])
def test_unknown_job_id(migrated: Cli, command: tuple[str, ...]) -> None:
    assert migrated.fails("jobs", *command) == "error: job 999 not found"


def test_invalid_transitions(migrated: Cli) -> None:
    job_id = str(enqueue(migrated, "scan")["id"])
    assert "still active" in migrated.fails("jobs", "retry", job_id)
    migrated.ok("jobs", "cancel", job_id)
    assert "already finished" in migrated.fails("jobs", "cancel", job_id)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "prune needs --older-than DURATION and/or --keep N"),
        (("--older-than", "7x"), "--older-than: '7x' is not a duration"),
        (("--older-than", "d"), "is not a duration"),
    ],
)
def test_bad_prune_options(migrated: Cli, args: tuple[str, ...], expected: str) -> None:
    assert expected in migrated.fails("jobs", "prune", *args)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://db/relayarr", "unsupported queue URL scheme 'postgres'"),
        ("sqlite://host/queue.db", "sqlite URLs have no host"),
        ("sqlite:///queue.db?colour=blue", "unknown sqlite URL options: colour"),
        ("sqlite:///queue.db?busy_timeout=soon", "busy_timeout must be a number"),
        ("sqlite:///:memory:", "needs a file path"),
    ],
)
def test_bad_url(cli: Cli, url: str, expected: str) -> None:
    assert expected in cli.fails("stats", url=url)


def test_bad_config_names_file_and_key(tmp_path: Path) -> None:
    cli = Cli(tmp_path, url=None)
    config = tmp_path / "relayarr.toml"
    config.write_text('[queue]\nconcurrency = "lots"\n', encoding="utf-8")
    line = cli.fails("--config", str(config), "migrate")
    assert f"{config}: queue.concurrency: Input should be a valid integer" in line
    config.write_text("[queue\n", encoding="utf-8")
    assert str(config) in cli.fails("--config", str(config), "stats")
    missing = tmp_path / "missing.toml"
    assert cli.fails("stats", env={"RELAYARR_CONFIG": str(missing)}).endswith(f"({missing})")
    assert not (tmp_path / "data").exists()


def test_bad_environment_names_the_variable(tmp_path: Path) -> None:
    line = Cli(tmp_path, url=None).fails("stats", env={"RELAYARR_LOG__JSON": "sometimes"})
    assert "RELAYARR_LOG__JSON: log.json: Input should be a valid boolean" in line


def test_unknown_import_module(migrated: Cli) -> None:
    line = migrated.fails("worker", "--import", "no_such_module_anywhere")
    assert "no module named 'no_such_module_anywhere'" in line


# -- the worker ----------------------------------------------------------------------------

HANDLERS = """
import asyncio
import logging
from pathlib import Path

from relayarr.jobqueue import Job, JobQueue

log = logging.getLogger("cli_test_handlers")


def register(queue: JobQueue) -> None:
    @queue.handler("echo")
    async def echo(job: Job) -> object:
        log.info("echo handler ran")
        return {"echo": job.payload}


def slow(queue: JobQueue) -> None:
    @queue.handler("slow")
    async def wait_for_release(job: Job) -> object:
        folder = Path(job.payload["folder"])
        (folder / "started").touch()
        while not (folder / "release").exists():
            await asyncio.sleep(0.02)
        return "released"
"""


class WorkerProcess:
    """``relayarr worker`` in the background, its stderr in a file."""

    def __init__(self, cli: Cli, *args: str, env: dict[str, str]) -> None:
        self.log = cli.cwd / f"worker-{time.monotonic_ns()}.log"
        with self.log.open("wb") as stderr:
            self.process = subprocess.Popen(
                cli.argv(("worker", *args), cli.url),
                cwd=cli.cwd,
                env={**cli.env, **env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=DEADLINE)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=DEADLINE)


@pytest.fixture
def handler_env(tmp_path: Path) -> dict[str, str]:
    """A handler module in its own directory, importable through PYTHONPATH."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "cli_test_handlers.py").write_text(HANDLERS, encoding="utf-8")
    path = [str(plugins), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(path)}


@contextmanager
def worker(cli: Cli, *args: str, env: dict[str, str]) -> Iterator[WorkerProcess]:
    process = WorkerProcess(cli, *args, env=env)
    try:
        yield process
    finally:
        process.kill()


def wait_until(condition: Any, what: str, process: WorkerProcess) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if process.process.poll() is not None:
            pytest.fail(f"worker exited while waiting for {what}:\n{process.stderr()}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{process.stderr()}")
        time.sleep(0.1)


def test_worker_runs_imported_handlers_and_stops_on_sigterm(
    migrated: Cli, handler_env: dict[str, str]
) -> None:
    ids = [enqueue(migrated, "echo", "--payload", json.dumps({"n": n}))["id"] for n in range(3)]
    args = ("--concurrency", "2", "--import", "cli_test_handlers")
    with worker(migrated, *args, env=handler_env) as process:
        wait_until(
            lambda: sorted(listed(migrated, "--status", "completed")) == sorted(ids),
            "three completed jobs",
            process,
        )
        code = process.terminate()
        log = process.stderr()
    assert code == 0, log
    assert "Traceback" not in log
    for n, job_id in enumerate(ids):
        job = migrated.json("jobs", "show", str(job_id))
        assert job["result"] == {"echo": {"n": n}}
        assert f"cli_test_handlers: echo handler ran job_id={job_id} type=echo attempt=1" in log
    assert "worker starting" in log
    assert "types=echo" in log
    assert "stop requested signal=SIGTERM" in log
    assert log.rstrip().endswith("shutdown complete")


def test_worker_lets_a_running_job_finish_after_sigterm(
    migrated: Cli, handler_env: dict[str, str], tmp_path: Path
) -> None:
    job_id = enqueue(migrated, "slow", "--payload", json.dumps({"folder": str(tmp_path)}))["id"]
    env = {**handler_env, "RELAYARR_LOG__JSON": "true"}
    with worker(migrated, "--import", "cli_test_handlers:slow", env=env) as process:
        wait_until((tmp_path / "started").exists, "the job to start", process)
        process.process.send_signal(signal.SIGTERM)
        wait_until(lambda: "stop requested" in process.stderr(), "the stop request", process)
        (tmp_path / "release").touch()
        code = process.process.wait(timeout=DEADLINE)
        log = process.stderr()
    assert code == 0, log
    entries = [json.loads(line) for line in log.splitlines()]  # every line is one JSON object
    messages = [entry["message"] for entry in entries]
    assert messages.index("stop requested") < messages.index("job completed")
    assert messages[-1] == "shutdown complete"
    (completed,) = [entry for entry in entries if entry["message"] == "job completed"]
    assert (completed["job_id"], completed["type"]) == (job_id, "slow")
    job = migrated.json("jobs", "show", str(job_id))
    assert (job["status"], job["result"]) == ("completed", "released")
