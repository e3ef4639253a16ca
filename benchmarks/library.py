"""``python -m benchmarks.library``: reconciliation over a generated library, and the
scanner on a crowded folder.

A library is written to a temporary folder: ``--movies`` movie folders (a video, an NFO,
a poster and a fanart each) and ``--series`` series folders holding ``--episodes`` episode
files between them (in seasons of ten, with an NFO and a poster per series). The library
database (SQLite) is filled with every folder's signature, as scans would have left it,
by one bulk insert (filling it scan by scan would take longer than the pass it prepares).

Measured, each pass over both roots, with the page cache warm as on a machine that has
just listed its library:

- a pass when nothing changed (it must find nothing);
- a pass after one movie folder gained a subtitle (it must find exactly that folder);
- the peak of Python's traced memory during a pass (after a first pass warmed the
  caches) and the process's peak RSS, at a quarter of the library and at the whole, each
  in a fresh process, to show they do not grow with the library;
- ``Scanner.scan_movie`` on one folder of 5,000 files (median of five).

>>> python -m benchmarks.library                       # doctest: +SKIP
>>> python -m benchmarks.library --movies 1000 --series 200 --episodes 5000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from relayarr.library.db import LibraryStore
from relayarr.library.db.engine import make_engine
from relayarr.library.db.models import Movie, Series
from relayarr.library.reconcile import Reconciler, ReconcileStats
from relayarr.library.roots import LibraryRoot, RootKind
from relayarr.library.scanner import Scanner
from relayarr.library.walk import folder_signature

DEFAULT_OUTPUT = Path("bench-results/library.md")
GOAL_SECONDS = 10.0
GOAL_SCAN_SECONDS = 1.0
EPISODES_PER_SEASON = 10
CROWDED_FILES = 5000


@dataclass(frozen=True, slots=True)
class Size:
    movies: int
    series: int
    episodes: int

    def part(self, divisor: int) -> Size:
        return Size(self.movies // divisor, self.series // divisor, self.episodes // divisor)

    @property
    def files(self) -> int:
        return self.movies * 4 + self.series * 2 + self.episodes


@dataclass(frozen=True, slots=True)
class Pass:
    seconds: float
    folders: int
    changes: int


def _write(path: str, data: bytes = b"") -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        if data:
            os.write(fd, data)
    finally:
        os.close(fd)


def generate(base: Path, size: Size) -> tuple[LibraryRoot, LibraryRoot]:
    """Write a library of ``size`` under ``base``; its movie and series roots."""
    movies, series = _roots(base)
    for n in range(size.movies):
        name = f"Movie {n:05d} ({1950 + n % 75})"
        folder = movies.path / name
        folder.mkdir(parents=True)
        _write(f"{folder}/{name}.mkv", b"\0" * (n % 97 + 1))
        _write(f"{folder}/movie.nfo", f"<movie><title>Movie {n:05d}</title></movie>".encode())
        _write(f"{folder}/poster.jpg", b"p")
        _write(f"{folder}/fanart.jpg", b"f")
    per_series = [size.episodes // size.series] * size.series if size.series else []
    for n in range(size.episodes - sum(per_series)):
        per_series[n] += 1
    for n, count in enumerate(per_series):
        show = f"Show {n:04d}"
        folder = series.path / show
        folder.mkdir(parents=True)
        _write(f"{folder}/tvshow.nfo", f"<tvshow><title>{show}</title></tvshow>".encode())
        _write(f"{folder}/poster.jpg", b"p")
        for episode in range(count):
            season, number = divmod(episode, EPISODES_PER_SEASON)
            season_folder = folder / f"Season {season + 1:02d}"
            if number == 0:
                season_folder.mkdir()
            _write(f"{season_folder}/{show} - S{season + 1:02d}E{number + 1:02d}.mkv", b"\0")
    movies.path.mkdir(parents=True, exist_ok=True)
    series.path.mkdir(parents=True, exist_ok=True)
    return movies, series


async def fill(url: str, roots: Sequence[LibraryRoot]) -> None:
    """Store every item folder's signature, as scans would have left it."""
    engine = make_engine(url, create=False)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as connection:
            for root in roots:
                model = Movie if root.kind is RootKind.MOVIES else Series
                rows = []
                for entry in sorted(os.scandir(root.path), key=lambda e: e.name):
                    rows.append(
                        {
                            "root": str(root.path),
                            "folder": entry.path,
                            "title": entry.name,
                            "sort_key": entry.name.casefold(),
                            "search_text": entry.name.casefold(),
                            "signature": folder_signature(entry.path),
                            "issues": [],
                            "created_at": now,
                            "scanned_at": now,
                        }
                    )
                    if len(rows) >= 1000:
                        await connection.execute(insert(model), rows)
                        rows = []
                if rows:
                    await connection.execute(insert(model), rows)
    finally:
        await engine.dispose()


async def one_pass(reconciler: Reconciler, roots: Sequence[LibraryRoot]) -> Pass:
    started = time.perf_counter()
    changes = 0
    folders = 0
    for root in roots:
        last: list[ReconcileStats] = []
        async for _ in reconciler.changes(root, progress=last.append):
            changes += 1
        folders += last[-1].folders if last else 0
    return Pass(time.perf_counter() - started, folders, changes)


@dataclass(frozen=True, slots=True)
class Memory:
    traced: int  # bytes: peak Python allocations during one pass, above the start
    rss_kib: int  # the measuring process's peak resident set


async def probe_memory(base: Path) -> Memory:
    """In this (fresh) process: a warm-up pass, then one pass under tracemalloc."""
    roots = _roots(base)
    store = await LibraryStore.open(f"sqlite:///{base}/library.db")
    try:
        reconciler = Reconciler(store)
        await one_pass(reconciler, roots)
        gc.collect()  # garbage of the warm-up pass is not the pass's memory
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            await one_pass(reconciler, roots)
            peak = tracemalloc.get_traced_memory()[1] - baseline
        finally:
            tracemalloc.stop()
    finally:
        await store.close()
    return Memory(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure_memory(base: Path) -> Memory:
    """:func:`probe_memory` in a child process, so no earlier run's state counts."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.library", "--probe-memory", str(base)],
        capture_output=True,
        text=True,
        check=True,
    )
    values = json.loads(completed.stdout.strip().splitlines()[-1])
    return Memory(int(values["traced"]), int(values["rss_kib"]))


def _roots(base: Path) -> tuple[LibraryRoot, LibraryRoot]:
    return LibraryRoot(base / "movies", RootKind.MOVIES), LibraryRoot(base / "tv", RootKind.SERIES)


def scan_crowded(base: Path) -> float:
    """Median seconds of ``scan_movie`` on a folder of 5,000 files."""
    folder = base / "crowded" / "Crowded (2020)"
    folder.mkdir(parents=True)
    _write(f"{folder}/Crowded (2020).mkv", b"\0" * 100)
    for n in range((CROWDED_FILES - 1) // 4 + 1):
        for name in (f"Crowded (2020).{n}.en.srt", f"fanart{n}.jpg", f"extra{n}.jpg", f"n{n}.txt"):
            _write(f"{folder}/{name}")
    scanner = Scanner()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        scanner.scan_movie(folder)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def library_case(base: Path, size: Size) -> tuple[Pass, Pass, Memory]:
    """Generate, fill, then: an unchanged pass, a pass with one change, memory."""
    roots = generate(base, size)
    url = f"sqlite:///{base}/library.db"
    store = await LibraryStore.open(url, create=True)
    try:
        await fill(url, roots)
        reconciler = Reconciler(store)
        await one_pass(reconciler, roots)  # warm the page cache as a listed library is
        unchanged = await one_pass(reconciler, roots)
        if unchanged.changes != 0:
            raise SystemExit(f"an unchanged library reported {unchanged.changes} changes")
        if size.movies:
            target = next(iter(sorted(os.listdir(roots[0].path))))
            _write(f"{roots[0].path}/{target}/{target}.fr.srt", b"sub")
        changed = await one_pass(reconciler, roots)
        if size.movies and changed.changes != 1:
            raise SystemExit(f"one changed folder was reported as {changed.changes} changes")
    finally:
        await store.close()
    return unchanged, changed, measure_memory(base)


def _mib(value: int) -> str:
    return f"{value / (1024 * 1024):.2f} MiB"


async def run(size: Size, workdir: Path | None, keep: bool) -> list[str]:
    base = Path(tempfile.mkdtemp(prefix="relayarr-library-bench-", dir=workdir))
    try:
        print(f"generating {size.files:,} files under {base} ...", file=sys.stderr)
        quarter = size.part(4)
        q_unchanged, _, q_peak = await library_case(base / "quarter", quarter)
        unchanged, changed, peak = await library_case(base / "full", size)
        scan_seconds = scan_crowded(base)
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    verdict = "met" if max(unchanged.seconds, changed.seconds) < GOAL_SECONDS else "MISSED"
    scan_verdict = "met" if scan_seconds < GOAL_SCAN_SECONDS else "MISSED"
    return [
        f"Library: {size.movies:,} movie folders, {size.series:,} series, "
        f"{size.episodes:,} episode files ({size.files:,} files); SQLite library database.",
        "",
        "| measurement | result | goal |",
        "|---|---|---|",
        f"| reconcile pass, nothing changed ({unchanged.folders:,} folders) | "
        f"{unchanged.seconds:.2f} s, {unchanged.changes} changes | < {GOAL_SECONDS:.0f} s "
        f"({verdict}) |",
        f"| reconcile pass, one movie folder changed | {changed.seconds:.2f} s, "
        f"{changed.changes} change found | < {GOAL_SECONDS:.0f} s, exactly 1 |",
        f"| memory of a pass, 1/4 library ({quarter.files:,} files): Python peak, process RSS "
        f"| {_mib(q_peak.traced)}, {_mib(q_peak.rss_kib * 1024)} | flat |",
        f"| memory of a pass, whole library ({size.files:,} files): Python peak, process RSS "
        f"| {_mib(peak.traced)}, {_mib(peak.rss_kib * 1024)} | flat |",
        f"| reconcile pass, 1/4 library, nothing changed | {q_unchanged.seconds:.2f} s | |",
        f"| `scan_movie` on one folder of {CROWDED_FILES:,} files (median of 5) | "
        f"{scan_seconds * 1000:.0f} ms | < 1 s ({scan_verdict}) |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.library", description=__doc__)
    parser.add_argument("--movies", type=int, default=10_000)
    parser.add_argument("--series", type=int, default=2_000)
    parser.add_argument("--episodes", type=int, default=50_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to generate (default: /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated library")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--probe-memory", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe_memory is not None:
        memory = asyncio.run(probe_memory(args.probe_memory))
        print(json.dumps({"traced": memory.traced, "rss_kib": memory.rss_kib}))
        return 0
    size = Size(args.movies, args.series, args.episodes)
    lines = asyncio.run(run(size, args.dir, args.keep))
    text = "\n".join(lines) + "\n"
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        f"<!-- python -m benchmarks.library, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC -->\n" + text
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
