"""``relayarr scan PATH`` and ``relayarr scan --all``, run for real in subprocesses against
a SQLite queue and library database, with a real ``relayarr worker`` where jobs must run.

Bad input ends with one ``error: ...`` line and exit status 1 (usage errors: 2), and
queues nothing. Deadlines only stop a broken run from hanging.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from relayarr.cli.output import job_json
from relayarr.config import Settings, load_settings
from relayarr.jobqueue import Job, JobQuery, open_storage
from relayarr.library.db.migrate import migrate as migrate_library
from serve_process import relayarr_command
from servers import postgres_database, redis_server

pytestmark = pytest.mark.slow

DEADLINE = 60.0  # seconds; only against hanging
MOVIE = "Arrival (2016)"
VIDEO = "Arrival.2016.2160p.mkv"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


@dataclass
class Library:
    """A config file naming two roots on disk, and ``relayarr`` run against it."""

    tmp: Path
    movies: Path
    tv: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None) -> Result:
        completed = subprocess.run(
            [*relayarr_command(), *args],
            cwd=cwd or self.tmp,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    def ok(self, *args: str, cwd: Path | None = None) -> Result:
        result = self.run(*args, cwd=cwd)
        assert result.code == 0, result
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def fails(self, *args: str, code: int = 1) -> str:
        """Run a command that must fail cleanly; its one error line."""
        result = self.run(*args)
        assert result.code == code, result
        assert "Traceback" not in result.stdout + result.stderr, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: "), lines[0]
        return lines[0]

    def jobs(self) -> list[dict[str, Any]]:
        """Every job, oldest first, read in-process (the CLI under test is ``scan``)."""

        async def read() -> list[Job]:
            storage = await open_storage(self.settings().queue_url)
            try:
                return list((await storage.list(JobQuery(limit=500))).jobs)
            finally:
                await storage.aclose()

        return [job_json(job) for job in reversed(asyncio.run(read()))]

    def settings(self) -> Settings:
        return load_settings(self.tmp / "relayarr.toml")

    def movie(self) -> Path:
        folder = self.movies / MOVIE
        folder.mkdir(exist_ok=True)
        (folder / VIDEO).write_bytes(b"\0" * 64)
        (folder / "movie.nfo").write_text("<movie><title>Arrival</title></movie>")
        return folder

    @contextmanager
    def worker(self) -> Iterator[subprocess.Popen[bytes]]:
        log = self.tmp / "worker.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [*relayarr_command(), "worker"],
                cwd=self.tmp,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                assert process.wait(timeout=DEADLINE) == 0, log.read_text()
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def make_library(
    tmp: Path, *, roots: bool = True, anchor: str | None = None, queue_url: str | None = None
) -> Library:
    movies, tv = tmp / "srv" / "movies", tmp / "srv" / "tv"
    movies.mkdir(parents=True)
    tv.mkdir(parents=True)
    anchors = f"anchors = [{json.dumps(anchor)}]" if anchor else ""
    config = f"""
data_dir = {json.dumps(str(tmp / "data"))}
[queue]
poll_interval = 0.1
{f"url = {json.dumps(queue_url)}" if queue_url else ""}
[library]
settle_seconds = 0
reconcile_every = "0"
"""
    if roots:
        config += f"""
[[library.roots]]
path = {json.dumps(str(movies))}
kind = "movies"
{anchors}

[[library.roots]]
path = {json.dumps(str(tv))}
kind = "series"
"""
    (tmp / "relayarr.toml").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
    env["RELAYARR_CONFIG"] = str(tmp / "relayarr.toml")
    library = Library(tmp, movies, tv, env)
    asyncio.run(migrate(library.settings()))
    return library


async def migrate(settings: Settings) -> None:
    storage = await open_storage(settings.queue_url, create=True)
    await storage.aclose()
    await migrate_library(settings.library_database_url)


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    return make_library(tmp_path)


# -- bad input -----------------------------------------------------------------------------


def test_a_path_outside_every_root_is_refused(lib: Library) -> None:
    line = lib.fails("scan", "/etc")
    assert line == f"error: /etc is outside every library root; roots: {lib.movies}, {lib.tv}"
    assert lib.jobs() == []


def test_a_path_that_does_not_exist_is_refused(lib: Library) -> None:
    missing = lib.movies / "Nope (2020)"
    assert lib.fails("scan", str(missing)) == f"error: {missing} does not exist"
    assert lib.jobs() == []


def test_a_root_itself_is_refused_pointing_at_scan_all(lib: Library) -> None:
    line = lib.fails("scan", str(lib.movies))
    assert "is the library root itself" in line
    assert "relayarr scan --all" in line


def test_without_a_library_both_forms_say_so(tmp_path: Path) -> None:
    lib = make_library(tmp_path, roots=False)
    expected = "error: no library is configured: add [[library.roots]] to the configuration"
    assert lib.fails("scan", str(tmp_path)) == expected
    assert lib.fails("scan", "--all") == expected
    assert lib.jobs() == []


@pytest.mark.parametrize("args", [(), ("--all", "/srv")])
def test_a_path_and_all_together_or_neither_is_a_usage_error(
    lib: Library, args: tuple[str, ...]
) -> None:
    result = lib.run("scan", *args)
    assert result.code == 2, result
    assert "give a PATH to scan, or --all" in result.stderr
    assert "Traceback" not in result.stderr


# -- queueing ------------------------------------------------------------------------------


def test_a_relative_path_is_taken_from_the_current_folder(lib: Library) -> None:
    folder = lib.movie()
    result = lib.ok("scan", VIDEO, cwd=folder)
    (job,) = lib.jobs()
    assert result.stdout == f"queued scan-movie #{job['id']}: {folder}\n"
    assert (job["type"], job["status"]) == ("scan-movie", "pending")
    assert job["payload"]["folder"] == str(folder)
    assert job["payload"]["reason"] == "manual"


def test_a_scan_waiting_for_the_folder_is_the_same_job(lib: Library) -> None:
    folder = lib.movie()
    first = json.loads(lib.ok("scan", str(folder), "--json").stdout)
    second = json.loads(lib.ok("scan", str(folder / VIDEO), "--json").stdout)
    assert first["job_id"] == second["job_id"] == first["job"]["id"]
    assert (first["folder"], first["root"]) == (str(folder), str(lib.movies))
    assert len(lib.jobs()) == 1


def test_a_root_whose_mount_is_down_is_named(tmp_path: Path) -> None:
    lib = make_library(tmp_path, anchor=".mounted")
    folder = lib.movie()
    result = lib.ok("scan", str(folder))
    assert f"note: library root {lib.movies} is unavailable ({lib.movies}/.mounted" in (
        result.stdout
    )
    assert [job["status"] for job in lib.jobs()] == ["pending"]


def test_scan_all_queues_one_reconciliation(lib: Library) -> None:
    result = lib.ok("scan", "--all")
    again = json.loads(lib.ok("scan", "--all", "--json").stdout)
    (job,) = lib.jobs()
    assert result.stdout == f"queued reconcile #{job['id']}: every library root (2)\n"
    assert again["job"]["id"] == job["id"]
    assert again["roots"] == [str(lib.movies), str(lib.tv)]


def test_wait_gives_up_after_the_timeout(lib: Library) -> None:
    folder = lib.movie()
    result = lib.run("scan", str(folder), "--wait", "--timeout", "0.5", "--json")
    assert result.code == 1, result
    (job,) = lib.jobs()
    assert result.stderr.strip() == (
        f"error: the chain of job {job['id']} did not end within 0.5 s"
    )


# -- following the chain, with a worker ----------------------------------------------------


def test_wait_follows_the_scan_and_its_notify_to_the_end(lib: Library) -> None:
    folder = lib.movie()
    with lib.worker():
        result = lib.ok("scan", str(folder), "--wait")
    scan, notify = sorted(lib.jobs(), key=lambda job: job["id"])
    assert result.stdout.splitlines() == [
        f"queued scan-movie #{scan['id']}: {folder}",
        f"scan-movie #{scan['id']} completed: {MOVIE}: new, 2 files; video {VIDEO}",
        f"  notify-players #{notify['id']} completed: no players configured; would tell: "
        f"added {folder / VIDEO}",
    ]
    # Off a terminal, each change of state was a line on stderr.
    assert f"scan-movie #{scan['id']}: completed:" in result.stderr
    assert notify["parent_id"] == scan["id"]


def test_wait_json_holds_the_whole_chain(lib: Library) -> None:
    folder = lib.movie()
    with lib.worker():
        result = lib.ok("scan", str(folder), "--wait", "--json")
    assert result.stderr == ""  # --json off a terminal: the document is the whole output
    document = json.loads(result.stdout)
    assert document["outcome"] == "completed"
    chain = document["chain"]
    assert (chain["type"], chain["status"]) == ("scan-movie", "completed")
    assert chain["result"]["created"] is True
    (notify,) = chain["children"]
    assert (notify["type"], notify["status"], notify["children"]) == (
        "notify-players",
        "completed",
        [],
    )


def test_scan_all_waits_for_every_scan_it_set_off(lib: Library) -> None:
    lib.movie()
    (lib.tv / "Severance" / "Season 01").mkdir(parents=True)
    (lib.tv / "Severance" / "Season 01" / "Severance - S01E01.mkv").write_bytes(b"\0")
    with lib.worker():
        result = lib.ok("scan", "--all", "--wait", "--json")
    document = json.loads(result.stdout)
    assert document["outcome"] == "completed"
    chain = document["chain"]
    assert chain["type"] == "reconcile"
    roots = {root["root"]: root for root in chain["result"]["roots"]}
    assert roots[str(lib.movies)]["new"] == [MOVIE]
    assert roots[str(lib.tv)]["new"] == ["Severance"]
    scans = sorted((child["type"], child["status"]) for child in chain["children"])
    assert scans == [("scan-movie", "completed"), ("scan-series", "completed")]


@pytest.mark.parametrize("engine", ["postgresql", "redis"])
def test_wait_follows_the_chain_on_a_server_queue(tmp_path: Path, engine: str) -> None:
    with server_queue(engine) as url:
        lib = make_library(tmp_path, queue_url=url)
        folder = lib.movie()
        with lib.worker():
            result = lib.ok("scan", str(folder), "--wait", "--json")
        document = json.loads(result.stdout)
        assert document["outcome"] == "completed"
        chain = document["chain"]
        assert [chain["type"], chain["children"][0]["type"]] == ["scan-movie", "notify-players"]
        assert url not in result.stdout + result.stderr


@contextmanager
def server_queue(engine: str) -> Iterator[str]:
    """A fresh queue URL on the tests' throwaway PostgreSQL or Redis."""
    if engine == "redis":
        yield redis_server().fresh_url()
        return
    with postgres_database() as (server, name):
        yield server.url(name)


def test_a_failed_job_in_the_chain_fails_the_command_naming_it(lib: Library) -> None:
    folder = lib.movie()
    command = subprocess.Popen(
        [*relayarr_command(), "scan", str(folder), "--wait"],
        cwd=lib.tmp,
        env=lib.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert command.stdout is not None
        assert command.stdout.readline().startswith("queued scan-movie #")
        # Before any worker runs it, the folder becomes a link leading out of the root.
        outside = lib.tmp / "elsewhere"
        shutil.move(folder, outside)
        folder.symlink_to(outside)
        with lib.worker():
            stdout, stderr = command.communicate(timeout=DEADLINE)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == 1, (stdout, stderr)
    assert "Traceback" not in stderr
    (job,) = lib.jobs()
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: scan-movie #{job['id']} failed: ")
    assert "is outside every library root" in last
    assert f"scan-movie #{job['id']} failed:" in stdout
