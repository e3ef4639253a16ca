"""``relayarr library lock|unlock`` and ``config check`` of ``[metadata]``, run for real in
subprocesses against SQLite files: locks kept in the library database, a publish job
queued, and bad input refused in one line naming it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from relayarr.library.db import LibraryStore
from relayarr.library.db.metastore import movie_ref
from relayarr.library.roots import LibraryRoot, RootKind
from relayarr.library.scanner import Scanner
from relayarr.pipeline import PUBLISH
from serve_process import relayarr_command

pytestmark = pytest.mark.slow


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
    return subprocess.run(
        [*relayarr_command(), "--config", "relayarr.toml", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    return line


def configure(tmp_path: Path, metadata: str = "[metadata]\n") -> Path:
    movies = tmp_path / "movies"
    (movies / "Arrival (2016)").mkdir(parents=True)
    (movies / "Arrival (2016)" / "Arrival (2016).mkv").write_bytes(b"\0" * 64)
    (tmp_path / "relayarr.toml").write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        "[[library.roots]]\n"
        f'path = "{movies}"\n'
        'kind = "movies"\n' + metadata,
        encoding="utf-8",
    )
    return movies


async def a_movie(tmp_path: Path, movies: Path) -> tuple[int, str]:
    done = run(tmp_path, "migrate")
    assert done.returncode == 0, done.stderr
    url = f"sqlite:///{tmp_path / 'data' / 'library.db'}"
    store = await LibraryStore.open(url)
    try:
        scan = Scanner(confine_to=[movies]).scan_movie(movies / "Arrival (2016)")
        record = await store.record_movie_scan(scan, LibraryRoot(movies, RootKind.MOVIES))
    finally:
        await store.close()
    return record.item_id, url


async def test_lock_and_unlock_fields_of_a_movie(tmp_path: Path) -> None:
    movies = configure(tmp_path)
    movie_id, url = await a_movie(tmp_path, movies)
    locked = run(tmp_path, "library", "lock", str(movie_id), "title", "plot", "poster")
    assert locked.returncode == 0, locked.stderr
    assert f"movie {movie_id}: locked fields: plot, poster, title" in locked.stdout
    assert "publish job" in locked.stdout
    unlocked = run(tmp_path, "library", "unlock", str(movie_id), "plot", "--json")
    assert unlocked.returncode == 0, unlocked.stderr
    answer = json.loads(unlocked.stdout)
    assert answer["locks"] == ["poster", "title"]
    assert isinstance(answer["publish_job"], int)
    listed = run(tmp_path, "jobs", "list", "--type", PUBLISH, "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["jobs"]) == 2
    store = await LibraryStore.open(url)
    try:
        locks = await store.metadata.get_locks(movie_ref(movie_id))
    finally:
        await store.close()
    assert locks.fields == frozenset({"poster", "title"})


async def test_without_metadata_locks_are_kept_for_later(tmp_path: Path) -> None:
    movies = configure(tmp_path, metadata="")
    movie_id, _ = await a_movie(tmp_path, movies)
    locked = run(tmp_path, "library", "lock", str(movie_id), "title")
    assert locked.returncode == 0, locked.stderr
    assert "no publish: [metadata] is not configured" in locked.stdout


async def test_bad_fields_and_ids_are_one_line_naming_them(tmp_path: Path) -> None:
    movies = configure(tmp_path)
    movie_id, _ = await a_movie(tmp_path, movies)
    assert one_error(run(tmp_path, "library", "lock", str(movie_id), "titel", "colour")) == (
        "error: locks.titel: unknown field; locks.colour: unknown field"
    )
    assert one_error(run(tmp_path, "library", "lock", "99", "title")) == (
        "error: no movie with id 99"
    )
    assert one_error(run(tmp_path, "library", "unlock", "--series", "1", "title")) == (
        "error: no series with id 1"
    )


def test_config_check_names_a_bad_metadata_key(tmp_path: Path) -> None:
    configure(tmp_path, metadata='[metadata]\nartwork = "poster"\nlangauge = "de"\n')
    line = one_error(run(tmp_path, "config", "check", "relayarr.toml"))
    assert "relayarr.toml: metadata.artwork:" in line
    assert "relayarr.toml: metadata.langauge: Extra inputs are not permitted" in line
