"""Turning results into the table: one model of rows, rendered with rich and as Markdown.

Ratios are relayarr / huey: above 1 relayarr is ahead on a rate, below 1 it is ahead on a
latency. The goal column checks the issue's targets for this 2-core machine.
"""

from __future__ import annotations

import os
import platform
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks.common import Throughput, median, percentile
from benchmarks.suite import (
    HUEY_FULL,
    HUEY_NORMAL,
    RELAYARR,
    SQLITE3,
    Config,
    Results,
    drain_key,
    history_key,
    huey_drain_key,
)

RATE = "jobs/s"
MS = "ms"
US = "µs"
PCT = "%"

# The raw-sqlite3 figures for this machine class, to judge how busy a run was.
REFERENCE = {"commits": 42_000.0, "claim-delete": 25_000.0}


@dataclass(frozen=True, slots=True)
class Goal:
    """A target for relayarr's figure: ``value > bound`` (or < when ``below``)."""

    bound: float
    below: bool = False
    inclusive: bool = False

    def met(self, value: float) -> bool:
        if self.below:
            return value <= self.bound if self.inclusive else value < self.bound
        return value >= self.bound if self.inclusive else value > self.bound

    def text(self, unit: str) -> str:
        sign = ("≤" if self.inclusive else "<") if self.below else ("≥" if self.inclusive else ">")
        return f"{sign} {self.bound:,g} {unit}"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table; a None value means the workload does not apply there."""

    title: str
    unit: str
    values: dict[str, float | None]
    goal: Goal | None = None
    detail: bool = False  # an indented breakdown of the row above
    rounds: Mapping[str, Sequence[Throughput]] = field(default_factory=dict)  # per-round runs


@dataclass(slots=True)
class Report:
    title: str
    machine: list[tuple[str, str]]
    rows: list[Row]
    ceiling: list[Row]
    notes: list[str] = field(default_factory=list)


def _number(value: float, unit: str) -> str:
    if unit == RATE:
        return f"{value:,.0f}"
    if unit == PCT:
        return f"{value:+.1f}"
    if unit == US:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def cell(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{_number(value, unit)}"


def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs == 0:
        return "—"
    return times(ours / theirs)


def times(value: float) -> str:
    """A ratio: two decimals, or two significant digits when far below 1 (latencies)."""
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def row_ratio(row: Row, peer: str) -> str:
    """relayarr / ``peer`` for a row. Rates measured in the same interleaved rounds give
    the median of the rounds' own ratios (robust to a slow minute); others, the ratio of
    the figures shown."""
    if row.unit not in (RATE, MS, US):
        return "—"
    ours, theirs = row.rounds.get(RELAYARR, ()), row.rounds.get(peer, ())
    if ours and len(ours) == len(theirs):
        return times(median([a.rate / b.rate for a, b in zip(ours, theirs, strict=True)]))
    return ratio(row.values.get(RELAYARR), row.values.get(peer))


def goal_cell(row: Row) -> str:
    if row.goal is None:
        return ""
    value = row.values.get(RELAYARR)
    verdict = "" if value is None else (" ✓" if row.goal.met(value) else " ✗")
    return row.goal.text(row.unit) + verdict


def _rate(runs: Sequence[Throughput]) -> float | None:
    return median([run.rate for run in runs]) if runs else None


def _micros(runs: Sequence[Throughput]) -> float | None:
    return median([run.seconds / run.jobs * 1e6 for run in runs]) if runs else None


def paired_slowdown(empty: Sequence[Throughput], full: Sequence[Throughput]) -> float | None:
    """Percent more time per job with the history than without: the median of the rounds'
    own ratios (each round measured both back to back), so a slow minute on a shared
    machine cancels out instead of landing on one side."""
    ratios = [
        (loaded.seconds / loaded.jobs) / (base.seconds / base.jobs)
        for base, loaded in zip(empty, full, strict=True)
        if base.seconds > 0 and base.jobs and loaded.jobs
    ]
    return (median(ratios) - 1) * 100 if ratios else None


def _best(results: Results, system: str, keys: Sequence[tuple[int, str]]) -> tuple[int, float]:
    rated = [(n, rate) for n, key in keys if (rate := _rate(results.runs(key, system)))]
    return max(rated, key=lambda item: item[1]) if rated else (0, 0.0)


def build_rows(config: Config, results: Results) -> list[Row]:
    """The main table: relayarr against both huey settings, per workload."""
    rows: list[Row] = []
    peers = (HUEY_NORMAL, HUEY_FULL)
    workloads = config.workloads

    def per_system(fn: Callable[[str], float | None]) -> dict[str, float | None]:
        return {system: fn(system) for system in (RELAYARR, *peers)}

    if "enqueue" in workloads:
        rows.append(
            Row(
                "enqueue, one add_job per call",
                RATE,
                per_system(lambda s: _rate(results.runs("enqueue", s))),
                Goal(25_000),
                rounds={s: results.runs("enqueue", s) for s in (RELAYARR, *peers)},
            )
        )
    if "batch" in workloads:
        for key, count in (("batch", config.jobs), ("batch-big", config.batch_jobs)):
            rows.append(
                Row(
                    f"batch add_jobs, {count:,} per call",
                    RATE,
                    {RELAYARR: _rate(results.runs(key, RELAYARR))},
                    Goal(100_000, inclusive=True),
                )
            )
    if "drain" in workloads:
        ours_c = [(c, drain_key(c)) for c in config.concurrency]
        theirs_w = [(w, huey_drain_key(w)) for w in config.huey_workers]
        best_c, best_rate = _best(results, RELAYARR, ours_c)
        values: dict[str, float | None] = {RELAYARR: best_rate or None}
        rounds = {RELAYARR: results.runs(drain_key(best_c), RELAYARR)}
        for system in peers:
            workers, rate = _best(results, system, theirs_w)
            values[system] = rate or None
            rounds[system] = results.runs(huey_drain_key(workers), system)
        rows.append(
            Row(
                f"drain, no-op jobs, one process (relayarr at concurrency {best_c})",
                RATE,
                values,
                Goal(10_000, inclusive=True),
                rounds=rounds,
            )
        )
        for concurrency, key in ours_c:
            rows.append(
                Row(
                    f"concurrency {concurrency}",
                    RATE,
                    {RELAYARR: _rate(results.runs(key, RELAYARR))},
                    detail=True,
                )
            )
        if len(theirs_w) > 1:
            for workers, key in theirs_w:
                rows.append(
                    Row(
                        f"huey, {workers} worker thread(s)",
                        RATE,
                        {system: _rate(results.runs(key, system)) for system in peers},
                        detail=True,
                    )
                )
        runs = results.runs(drain_key(best_c), RELAYARR)
        stalls = [run.max_stall for run in runs if run.max_stall is not None]
        busy = [run.max_busy for run in runs if run.max_busy is not None]
        rows.append(
            Row(
                "longest event-loop stall in the drain (wall)",
                MS,
                {RELAYARR: max(stalls) * 1000 if stalls else None},
            )
        )
        rows.append(
            Row(
                "most CPU the loop thread used in one stall",
                MS,
                {RELAYARR: max(busy) * 1000 if busy else None},
                detail=True,
            )
        )
    if "latency" in workloads:
        for q in (50, 99):
            values = {
                system: percentile(samples, q) * 1000
                for system in (RELAYARR, *peers)
                if (samples := results.latencies.get(system))
            }
            rows.append(
                Row(
                    f"idle enqueue-to-start, p{q}",
                    MS,
                    dict(values),
                    Goal(2.0, below=True) if q == 50 else None,
                )
            )
    if "history" in workloads and results.history_concurrency is not None:
        rows.extend(_history_rows(config, results))
    return rows


def _history_rows(config: Config, results: Results) -> list[Row]:
    c = results.history_concurrency
    history = f"{config.history_rows:,} rows of history"
    runs = {
        (what, kind): results.runs(history_key(what, kind), RELAYARR)
        for what in ("drain", "pairs")
        for kind in ("empty", "full")
    }
    drain_empty = _rate(runs["drain", "empty"])
    drain_full = _rate(runs["drain", "full"])
    pair_empty = _micros(runs["pairs", "empty"])
    pair_full = _micros(runs["pairs", "full"])
    return [
        Row(f"drain (concurrency {c}), empty history", RATE, {RELAYARR: drain_empty}),
        Row(f"drain (concurrency {c}), {history}", RATE, {RELAYARR: drain_full}),
        Row(
            "slowdown",
            PCT,
            {RELAYARR: paired_slowdown(runs["drain", "empty"], runs["drain", "full"])},
            Goal(10.0, below=True),
            detail=True,
        ),
        Row("one claim + complete, empty history", US, {RELAYARR: pair_empty}),
        Row(f"one claim + complete, {history}", US, {RELAYARR: pair_full}),
        Row(
            "slowdown",
            PCT,
            {RELAYARR: paired_slowdown(runs["pairs", "empty"], runs["pairs", "full"])},
            Goal(10.0, below=True),
            detail=True,
        ),
    ]


def build_ceiling(results: Results) -> list[Row]:
    rows = []
    for key, title in (
        ("commits", "raw sqlite3, single-row INSERT commits"),
        ("claim-delete", "raw sqlite3, select + delete commits (a minimal claim)"),
    ):
        runs = results.runs(key, SQLITE3)
        if runs:
            rows.append(Row(title, RATE, {SQLITE3: _rate(runs), "reference": REFERENCE[key]}))
    return rows


def _drain_notes(config: Config, results: Results) -> list[str]:
    notes = []
    for concurrency in config.concurrency:
        runs = results.runs(drain_key(concurrency), RELAYARR)
        commits = [run.commits for run in runs if run.commits]
        if commits:
            per_commit = config.jobs / median([float(n) for n in commits])
            notes.append(
                f"relayarr drain at concurrency {concurrency}: {per_commit:.1f} jobs per "
                "commit (group commit batches claims and completions)"
            )
    enqueue = [run.commits for run in results.runs("enqueue", RELAYARR) if run.commits]
    if enqueue:
        notes.append(
            "relayarr one-per-call enqueue: "
            f"{config.jobs / median([float(n) for n in enqueue]):.1f} jobs per commit"
        )
    return notes


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} (src/ has uncommitted changes)" if dirty else head


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def command_line(argv: Sequence[str]) -> str:
    """How this run was started, as a command to paste (relative to the project)."""
    executable = sys.executable
    relative = os.path.relpath(executable)
    if not relative.startswith(".."):
        executable = relative
    return shlex.join([executable, "-m", "benchmarks", *argv])


def machine(
    config: Config, results: Results, argv: Sequence[str], loads: tuple[str, str]
) -> list[tuple[str, str]]:
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("command", command_line(argv)),
        ("machine", f"{os.cpu_count()} CPUs (nproc), {cpu_model()}, {platform.system()}"),
        ("python", platform.python_version()),
        ("sqlite", sqlite3.sqlite_version),
        ("huey", package_version("huey")),
        ("relayarr", git_revision()),
        ("load average (1 min) before / after", " / ".join(loads)),
        (
            "sizes",
            f"{config.jobs:,} no-op jobs, median of {config.runs} interleaved run(s) "
            f"({config.history_runs} for the history workload); {config.latency_samples} "
            "latency samples pooled over the runs",
        ),
        ("wall time", f"{results.elapsed:.0f} s"),
    ]


def build(config: Config, results: Results, argv: Sequence[str], loads: tuple[str, str]) -> Report:
    """The report of a run started with ``argv``; ``loads`` are the load averages around it."""
    notes = [
        "x NORMAL / x FULL = relayarr / huey: above 1 relayarr is ahead on a rate, below 1 on "
        "a latency; for rates it is the median of each round's own ratio (the rounds run "
        "every system back to back); — means the workload does not apply",
        "huey NORMAL is huey's SqliteStorage in WAL with synchronous=NORMAL (a two-line "
        "subclass; relayarr's default durability); huey FULL is huey as shipped (WAL, "
        "synchronous=FULL: an fsync per commit)",
        "enqueue: `await queue.add_job(...)` in a loop; huey: calling the task "
        "(`huey.enqueue`, results store on as by default); batch: one `await "
        "queue.add_jobs(specs)` with the JobSpecs built before the clock starts (huey has "
        "no batch enqueue)",
        "drain: N jobs pre-filled, timed from `queue.start(concurrency)` (huey: its consumer, "
        "thread workers, periodic off, in this process) until every job completed and the "
        f"worker stopped; relayarr tries concurrency {_join(config.concurrency)}, huey "
        f"{_join(config.huey_workers)} worker thread(s); the best median is shown",
        "event-loop stall: a task sleeping 1 ms in a loop during the drain records its "
        "largest overshoot (wall time: includes time the process was descheduled on a busy "
        "machine) and the most CPU time the loop's thread used within one such tick (our "
        "own code and GC holding the loop); worst of the runs at the best concurrency; "
        "huey has no event loop",
        "enqueue-to-start: worker idle, one job at a time after a random 1-20 ms pause, from "
        "just before the enqueue call to the handler's first line; huey's consumer polls at "
        "its defaults (0.1 s, backing off x1.15 when idle)",
        "history: one real completed job copied by SQL into the wanted number of history "
        "rows; the drain runs at the best concurrency; claim + complete is "
        "`storage.claim(limit=1)` then `storage.complete` in a loop, no worker, the empty and "
        "the full database taking turns in blocks of 250 pairs; huey deletes a task when it "
        "starts it, so it has no history to compare; slowdown = median over the rounds of "
        "each round's own full/empty time ratio",
        *_drain_notes(config, results),
    ]
    return Report(
        title="relayarr vs huey (SqliteStorage)",
        machine=machine(config, results, argv, loads),
        rows=build_rows(config, results),
        ceiling=build_ceiling(results),
        notes=notes,
    )


def _join(values: Sequence[int]) -> str:
    return "/".join(str(value) for value in values)


def loadavg() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


# -- rendering ---------------------------------------------------------------------------


HEADERS = (
    "workload",
    "unit",
    "relayarr",
    "huey NORMAL",
    "huey FULL",
    "x NORMAL",
    "x FULL",
    "goal",
)


def _cells(row: Row) -> list[str]:
    ours = row.values.get(RELAYARR)
    normal = row.values.get(HUEY_NORMAL)
    full = row.values.get(HUEY_FULL)
    title = f"  ↳ {row.title}" if row.detail else row.title
    return [
        title,
        row.unit,
        cell(ours, row.unit),
        cell(normal, row.unit),
        cell(full, row.unit),
        row_ratio(row, HUEY_NORMAL),
        row_ratio(row, HUEY_FULL),
        goal_cell(row),
    ]


def _ceiling_cells(row: Row) -> list[str]:
    measured = row.values.get(SQLITE3)
    reference = row.values.get("reference")
    return [row.title, cell(measured, RATE), cell(reference, RATE), ratio(measured, reference)]


CEILING_HEADERS = ("yardstick", "jobs/s here", "issue's reference", "here / reference")


def markdown(report: Report) -> str:
    lines = [f"### {report.title}", ""]
    lines += [
        f"- {name}: `{value}`" if name == "command" else f"- {name}: {value}"
        for name, value in report.machine
    ]
    lines += ["", md_table(HEADERS, [_cells(row) for row in report.rows]), ""]
    if report.ceiling:
        lines += [md_table(CEILING_HEADERS, [_ceiling_cells(row) for row in report.ceiling]), ""]
    lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    right = {i for i, name in enumerate(headers) if i > 0 and name not in ("unit", "goal")}
    out = ["| " + " | ".join(headers) + " |"]
    out.append("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def print_rich(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(170, Console().width))
    table = Table(title=report.title, title_justify="left", show_lines=False)
    for index, name in enumerate(HEADERS):
        table.add_column(name, justify="right" if index >= 2 and name != "goal" else "left")
    for row in report.rows:
        table.add_row(*_cells(row), style="dim" if row.detail else None)
    console.print(table)
    if report.ceiling:
        yardstick = Table(title="raw sqlite3 on this machine (WAL, NORMAL)", title_justify="left")
        for index, name in enumerate(CEILING_HEADERS):
            yardstick.add_column(name, justify="right" if index else "left")
        for row in report.ceiling:
            yardstick.add_row(*_ceiling_cells(row))
        console.print(yardstick)
    for name, value in report.machine:
        console.print(f"[bold]{name}[/bold]: {value}", highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"- {note}", highlight=False, soft_wrap=True)
