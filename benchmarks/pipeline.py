"""``python -m benchmarks.pipeline``: the media pipeline end to end, through a running
``relayarr serve`` on SQLite (HTTP and workers in one process, default logging).

Three workloads, each on a fresh library (folders made on disk, a config file with
``[library]``, ``[[mappings]]`` and, for Kodi, ``[[players]]``):

* **webhook to "scan done"**: Radarr ``Download`` webhooks for one new movie each, one
  after the other, ``settle_seconds = 0``, no players; from just before the POST to the
  ``finished_at`` of the ``scan-movie`` job the webhook set off (the server's clock: the
  same machine's). p50 and p99 (goal: p50 under 50 ms).
* **a season pack**: 50 Sonarr ``Download`` webhooks for one show within a second
  (``settle_seconds = 2``): how many ``scan-series`` and ``notify-players`` jobs follow
  (goal: one each), and the time from the first POST to the notify's end (settle included).
* **webhook to "verified in Kodi"**: the tests' headless Kodi 20 (``tests/kodi.py``) as
  the player, reached through ``[[players.mappings]]``; from the POST to the end of the
  ``notify-players`` job, which ends once Kodi lists the file. Median over several movies.

A sample waits for its whole chain to finish before the next starts, so samples never
share the server. Needs ``scripts/ensure-kodi.sh`` to have run (``make bench`` does).

>>> python -m benchmarks.pipeline --quick          # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
for _path in (TESTS, TESTS / "e2e"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

from e2e_world import ARR_MOVIES, ARR_TV, Player, Server, Site, fixture, make_site, walk  # noqa: E402

from benchmarks.common import percentile  # noqa: E402
from kodi import KodiServer  # noqa: E402

DEFAULT_OUTPUT = Path("bench-results/pipeline.md")
GOAL_P50_MS = 50.0
PACK_SETTLE = 2.0  # seconds; the 50 webhooks arrive within one
PACK_WINDOW = 0.8  # seconds the pack's webhooks are spread over
POLL = 0.02  # seconds between looks at a chain
WARMUP = 3  # webhooks before the timed ones (imports, caches, the first connections)


@dataclass(frozen=True, slots=True)
class Figures:
    """What one run measured (seconds unless named otherwise)."""

    scan_ms: list[float]
    pack_webhooks: int
    pack_send_seconds: float
    pack_scans: int
    pack_notifies: int
    pack_done_seconds: float
    kodi_seconds: list[float]

    @property
    def scan_p50_ms(self) -> float:
        return percentile(self.scan_ms, 50)

    @property
    def scan_p99_ms(self) -> float:
        return percentile(self.scan_ms, 99)


def _movie_body(folder: str, video: str, title: str) -> dict[str, Any]:
    body = fixture("radarr/download.json")
    body["isUpgrade"] = False
    body["deletedFiles"] = []
    body["movie"].update(title=title, folderPath=f"{ARR_MOVIES}/{folder}")
    body["movieFile"].update(relativePath=video, path=f"{ARR_MOVIES}/{folder}/{video}")
    return body


def _finished(server: Server, job_id: int) -> dict[str, Any]:
    """The chain of ``job_id`` once finished, looking every :data:`POLL` seconds."""
    while True:
        detail = server.detail(job_id)
        if detail["chain_finished"]:
            chain: dict[str, Any] = detail["chain"]
            failed = [n for _, n in walk(chain) if n["status"] != "completed"]
            if failed:
                raise RuntimeError(f"job {failed[0]['id']} {failed[0]['status']}: {failed[0]}")
            return chain
        time.sleep(POLL)


def _ended(chain: dict[str, Any], job_type: str) -> float:
    """When the (last) job of ``job_type`` in the chain finished, as a Unix time."""
    ends = [
        datetime.fromisoformat(node["finished_at"]).timestamp()
        for _, node in walk(chain)
        if node["type"] == job_type
    ]
    if not ends:
        raise RuntimeError(f"no {job_type} job in the chain: {chain}")
    return max(ends)


def _import_movie(server: Server, site: Site, n: int, end_type: str) -> float:
    """One movie imported through a webhook; seconds from the POST to the end of the
    ``end_type`` job of its chain."""
    folder = f"Bench {uuid.uuid4().hex[:8]} ({2000 + n % 20})"
    video = "movie.2160p.mkv"
    site.file(site.movies / folder / video)
    site.file(site.movies / folder / "movie.nfo", f"<movie><title>Bench {n}</title></movie>")
    started = time.time()
    job_id = server.webhook("radarr", _movie_body(folder, video, f"Bench {n}"))
    return _ended(_finished(server, job_id), end_type) - started


def measure_scans(tmp: Path, webhooks: int) -> list[float]:
    """Milliseconds from webhook to "scan done", one movie each."""
    site = make_site(tmp / "scan")
    server = site.serve()
    try:
        for n in range(WARMUP):
            _import_movie(server, site, n, "scan-movie")
        return [
            _import_movie(server, site, n, "scan-movie") * 1000
            for n in range(WARMUP, webhooks + WARMUP)
        ]
    finally:
        server.stop()


def measure_pack(tmp: Path, episodes: int) -> tuple[float, int, int, float]:
    """A season pack as ``episodes`` webhooks within a second: (seconds taken to send
    them, scans, notifies, seconds from the first POST to the last job's end)."""
    site = make_site(tmp / "pack", settle_seconds=PACK_SETTLE)
    show = f"Pack {uuid.uuid4().hex[:6]}"
    names = [f"Season 01/{show} - S01E{n:02d}.mkv" for n in range(1, episodes + 1)]
    for name in names:
        site.file(site.tv / show / name)
    server = site.serve()
    try:
        bodies = []
        for n, name in enumerate(names, start=1):
            body = fixture("sonarr/download_episode_file.json")
            body["series"].update(title=show, path=f"{ARR_TV}/{show}")
            body["episodes"][0].update(seasonNumber=1, episodeNumber=n)
            body["episodeFile"].update(relativePath=name, path=f"{ARR_TV}/{show}/{name}")
            bodies.append(body)
        gap = PACK_WINDOW / max(1, episodes - 1)
        started = time.time()
        job_ids = []
        for n, body in enumerate(bodies):
            time.sleep(max(0.0, started + n * gap - time.time()))
            job_ids.append(server.webhook("sonarr", body))
        sent = time.time() - started
        chains = [_finished(server, job_id) for job_id in job_ids]
        server.idle()
        scans = len(server.jobs("scan-series"))
        notifies = len(server.jobs("notify-players"))
        done = max(_ended(chain, "notify-players") for chain in chains if chain["children"])
        return sent, scans, notifies, done - started
    finally:
        server.stop()


def measure_kodi(tmp: Path, movies: int, kodi: KodiServer) -> list[float]:
    """Seconds from webhook to "verified in Kodi", one new movie each."""
    root = tmp / "kodi"
    (root / "nas").mkdir(parents=True)
    local_movies, local_tv = root / "nas" / "movies", root / "nas" / "tv"
    local_movies.symlink_to(kodi.movies, target_is_directory=True)
    local_tv.symlink_to(kodi.tvshows, target_is_directory=True)
    player = Player(
        {
            "name": "bench-kodi",
            "type": "kodi",
            "url": kodi.url,
            "username": kodi.username,
            "password": kodi.password,
        },
        mappings=((str(local_movies), str(kodi.movies)), (str(local_tv), str(kodi.tvshows))),
    )
    site = make_site(root, movies=local_movies, tv=local_tv, players=(player,))
    server = site.serve()
    try:
        times = [_import_movie(server, site, n, "notify-players") for n in range(movies)]
    finally:
        server.stop()
    listed = {str(m["file"]) for m in kodi.movies_in_library()}
    missing = [f for f in (kodi.movies.glob("Bench */movie.2160p.mkv")) if str(f) not in listed]
    if missing:
        raise RuntimeError(f"Kodi does not list {missing[:3]}")
    return times


def run(
    *,
    webhooks: int,
    pack: int,
    kodi_movies: int,
    tmp: Path | None = None,
    kodi: KodiServer | None = None,
) -> Figures:
    """Every workload; ``kodi_movies`` 0 skips Kodi. A Kodi is started (and stopped)
    unless one is given."""
    with tempfile.TemporaryDirectory(prefix="relayarr-bench-pipeline-", dir=tmp) as where:
        base = Path(where)
        _log(f"webhook to scan done: {webhooks} movies (+{WARMUP} warm-up)")
        scans = measure_scans(base, webhooks)
        _log(f"season pack: {pack} webhooks within a second")
        sent, pack_scans, pack_notifies, pack_done = measure_pack(base, pack)
        kodi_times: list[float] = []
        if kodi_movies:
            own = kodi is None
            server = kodi or KodiServer()
            if own:
                server.start()
                _log(f"kodi started in {server.startup_seconds:.1f} s")
            try:
                _log(f"webhook to verified in Kodi: {kodi_movies} movies")
                kodi_times = measure_kodi(base, kodi_movies, server)
            finally:
                if own:
                    server.stop()
    return Figures(scans, pack, sent, pack_scans, pack_notifies, pack_done, kodi_times)


def report(figures: Figures, command: str) -> str:
    """The figures as Markdown, with the command that produced them."""
    met = "met" if figures.scan_p50_ms < GOAL_P50_MS else "NOT met"
    one = figures.pack_scans == 1 and figures.pack_notifies == 1
    lines = [
        f"`{command}` ({_load()})",
        "",
        "| workload | figure | goal |",
        "|---|---|---|",
        f"| webhook to scan done, {len(figures.scan_ms)} movies | p50 "
        f"**{figures.scan_p50_ms:.1f} ms**, p99 {figures.scan_p99_ms:.1f} ms, max "
        f"{max(figures.scan_ms):.1f} ms | p50 < {GOAL_P50_MS:g} ms: {met} |",
        f"| season pack, {figures.pack_webhooks} webhooks in {figures.pack_send_seconds:.2f} s "
        f"| **{figures.pack_scans} scan, {figures.pack_notifies} notify**; last job done "
        f"{figures.pack_done_seconds:.2f} s after the first webhook (settle {PACK_SETTLE:g} s) "
        f"| one each: {'met' if one else 'NOT met'} |",
    ]
    if figures.kodi_seconds:
        kodi = figures.kodi_seconds
        lines.append(
            f"| webhook to verified in Kodi, {len(kodi)} movies | median "
            f"**{statistics.median(kodi) * 1000:.0f} ms**, min {min(kodi) * 1000:.0f} ms, "
            f"max {max(kodi) * 1000:.0f} ms | - |"
        )
    return "\n".join(lines) + "\n"


def _load() -> str:
    try:
        one, five, _ = Path("/proc/loadavg").read_text().split()[:3]
    except (OSError, ValueError):
        return "load unknown"
    return f"load average {one} / {five}"


def _log(text: str) -> None:
    print(f"[pipeline] {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Options:
    webhooks: int
    pack: int
    kodi_movies: int
    tmpdir: Path | None
    as_json: bool
    output: Path


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pipeline", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="10 webhooks, a pack of 50, 3 Kodi movies"
    )
    parser.add_argument("--webhooks", type=int, help="timed movie webhooks (default 100)")
    parser.add_argument("--pack", type=int, default=50, help="episodes in the season pack")
    parser.add_argument(
        "--kodi-movies", type=int, help="movies sent to Kodi (default 10; 0: skip Kodi)"
    )
    parser.add_argument("--tmpdir", type=Path, help="where the libraries go")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown copy")
    args = parser.parse_args(argv)
    for name in ("webhooks", "pack", "kodi_movies"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "kodi_movies" else 1):
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return Options(
        webhooks=args.webhooks or (10 if args.quick else 100),
        pack=args.pack,
        kodi_movies=args.kodi_movies if args.kodi_movies is not None else (3 if args.quick else 10),
        tmpdir=args.tmpdir,
        as_json=args.json,
        output=args.output,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    options = parse_args(argv)
    figures = run(
        webhooks=options.webhooks,
        pack=options.pack,
        kodi_movies=options.kodi_movies,
        tmp=options.tmpdir,
    )
    text = report(figures, " ".join(["python -m benchmarks.pipeline", *argv]))
    print(json.dumps(asdict(figures)) if options.as_json else text)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
