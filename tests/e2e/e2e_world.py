"""A media library on disk and a running ``relayarr serve`` over it, for the end-to-end
tests and the pipeline benchmark: a config file with ``[library]``, ``[[mappings]]`` and
(optionally) ``[[players]]``, real HTTP over loopback, the SQLite queue and library
database of the serve process, and the ``relayarr`` CLI pointed at the same config.

The *arrs send paths as in the fixtures (``/data/media/movies``, ``/data/media/tv``);
``[[mappings]]`` turn them into the roots made here.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from serve_process import ServeProcess, relayarr_command

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"
ARR_MOVIES = "/data/media/movies"
ARR_TV = "/data/media/tv"
KEY = "e2e-api-key-0123456789abcdef"
DEADLINE = 60.0  # seconds; only against hanging


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return copy.deepcopy(body)


def toml_value(value: object) -> str:
    """A TOML value for strings, numbers, booleans and lists of them (JSON's escapes are
    TOML's for basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value)


def toml_table(header: str, values: Mapping[str, object]) -> str:
    lines = [header] + [f"{key} = {toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n\n"


@dataclass(frozen=True, slots=True)
class Player:
    """One ``[[players]]`` entry and its ``[[players.mappings]]`` (local -> player)."""

    settings: Mapping[str, object]
    mappings: tuple[tuple[str, str], ...] = ()


@dataclass
class Site:
    """The library roots on disk and the config file naming them."""

    tmp: Path
    movies: Path
    tv: Path
    config: Path
    settle_seconds: float = 0.0
    reconcile_every: str = "0"
    players: tuple[Player, ...] = ()
    library_database_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def write_config(self) -> None:
        library: dict[str, object] = {
            "settle_seconds": self.settle_seconds,
            "reconcile_every": self.reconcile_every,
            "mount_retry_seconds": 1.0,
        }
        if self.library_database_url:
            library["database_url"] = self.library_database_url
        text = toml_table("[queue]", {"poll_interval": 0.2})
        text += toml_table("[library]", library)
        text += toml_table("[[library.roots]]", {"path": str(self.movies), "kind": "movies"})
        text += toml_table("[[library.roots]]", {"path": str(self.tv), "kind": "series"})
        rules = (("radarr", ARR_MOVIES, self.movies), ("sonarr", ARR_TV, self.tv))
        for source, arr_path, root in rules:
            text += toml_table(
                "[[mappings]]", {"source": source, "from": arr_path, "to": str(root)}
            )
        for player in self.players:
            text += toml_table("[[players]]", player.settings)
            for local, remote in player.mappings:
                text += toml_table("[[players.mappings]]", {"from": local, "to": remote})
        self.config.write_text(text, encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
        self.env.update(
            RELAYARR_CONFIG=str(self.config),
            RELAYARR_DATA_DIR=str(self.tmp / "data"),
            RELAYARR_API_KEY=KEY,
        )

    def serve(self) -> Server:
        """A started ``relayarr serve`` on this site (stop it, or use ``with``)."""
        self.write_config()
        process = ServeProcess(self.tmp, api_key=KEY, env={"RELAYARR_CONFIG": str(self.config)})
        return Server(process.start(), self)

    def cli(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """``relayarr ARGS`` against this site's config and data."""
        return subprocess.run(
            [*relayarr_command(), *args],
            cwd=cwd or self.tmp,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DEADLINE * 2,
            check=False,
        )

    # -- media on disk -----------------------------------------------------------------------

    def file(self, path: Path, content: bytes | str = b"\0" * 64) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    def local(self, arr_path: str) -> Path:
        """Where an *arr's path lands on disk here."""
        for arr_root, root in ((ARR_MOVIES, self.movies), (ARR_TV, self.tv)):
            if arr_path == arr_root or arr_path.startswith(arr_root + "/"):
                return root / arr_path[len(arr_root) + 1 :]
        raise AssertionError(f"{arr_path} is not a fixture path")


def make_site(
    tmp: Path, *, movies: Path | None = None, tv: Path | None = None, **options: Any
) -> Site:
    """A site under ``tmp``; ``movies``/``tv`` put the roots elsewhere (a player's folders)."""
    movies = movies or tmp / "srv" / "movies"
    tv = tv or tmp / "srv" / "tv"
    movies.mkdir(parents=True, exist_ok=True)
    tv.mkdir(parents=True, exist_ok=True)
    return Site(tmp, movies, tv, tmp / "relayarr.toml", **options)


class Server:
    """A running ``relayarr serve`` and an authenticated client for it."""

    def __init__(self, process: ServeProcess, site: Site) -> None:
        self.process = process
        self.site = site
        self.client = httpx.Client(
            base_url=process.base_url, headers={"X-Api-Key": KEY}, timeout=30
        )

    def stop(self) -> None:
        self.client.close()
        code = self.process.stop()
        assert code == 0, self.process.stderr

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def webhook(self, source: str, body: object, instance: str | None = None) -> int:
        """POST a webhook; the job id of its 202."""
        path = f"/api/v1/webhooks/{source}" + (f"/{instance}" if instance else "")
        response = self.client.post(path, json=body)
        assert response.status_code == 202, response.text
        job_id: int = response.json()["job_id"]
        return job_id

    def detail(self, job_id: int) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        detail: dict[str, Any] = response.json()
        return detail

    def finished(self, job_id: int, *, within: float = DEADLINE) -> dict[str, Any]:
        """The job's detail once its whole chain is finished."""
        detail: dict[str, Any] = wait_for(
            lambda: _if(self.detail(job_id), "chain_finished"), f"job {job_id}'s chain", within
        )
        return detail

    def jobs(self, job_type: str, status: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"type": job_type, "limit": 500}
        if status is not None:
            params["status"] = status
        response = self.client.get("/api/v1/jobs", params=params)
        assert response.status_code == 200, response.text
        jobs: list[dict[str, Any]] = response.json()["jobs"]
        return jobs

    def idle(self, *, within: float = DEADLINE, horizon: float = 60.0) -> None:
        """Wait until no job runs and none is due within ``horizon`` seconds (the periodic
        reconciliation waits for hours; a snoozed or settling job is due soon)."""

        def quiet() -> bool:
            active = self.client.get(
                "/api/v1/jobs", params={"status": ["pending", "processing"], "limit": 500}
            ).json()["jobs"]
            later = datetime.now(UTC) + timedelta(seconds=horizon)
            return all(
                job["status"] == "pending" and datetime.fromisoformat(job["run_at"]) > later
                for job in active
            )

        wait_for(quiet, "the queue to settle", within)


def _if(detail: dict[str, Any], key: str) -> dict[str, Any] | None:
    return detail if detail[key] else None


def wait_for(probe: Callable[[], Any], what: str, within: float = DEADLINE) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def walk(node: dict[str, Any], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """(depth, node) for every job of a ``chain`` tree, depth first."""
    yield depth, node
    for child in node["children"]:
        yield from walk(child, depth + 1)


@contextmanager
def running(site: Site) -> Iterator[Server]:
    server = site.serve()
    try:
        yield server
    finally:
        server.stop()


__all__ = [
    "ARR_MOVIES",
    "ARR_TV",
    "DEADLINE",
    "KEY",
    "Player",
    "Server",
    "Site",
    "fixture",
    "make_site",
    "running",
    "wait_for",
    "walk",
]
