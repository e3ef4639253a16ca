"""The server tables: relayarr against its peers, one table per engine, with ratios.

Ratios are relayarr / peer: above 1 relayarr is ahead on a rate, below 1 it is ahead on a
latency. For rates measured in the same rounds the ratio is the median of the rounds' own
ratios. The goal column checks the issue's targets for this 2-core machine.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from benchmarks.common import Throughput, median, percentile
from benchmarks.report import (
    MS,
    RATE,
    Goal,
    Row,
    cell,
    command_line,
    cpu_model,
    git_revision,
    goal_cell,
    md_table,
    package_version,
    row_ratio,
    times,
)
from benchmarks.server_suite.ceiling import REFERENCE, TITLES
from benchmarks.server_suite.suite import PROCESSES, ServerConfig, ServerResults, drain_key
from benchmarks.server_suite.system import Engine, System
from benchmarks.suite import RELAYARR

TITLE: dict[Engine, str] = {
    "postgresql": "relayarr vs procrastinate on PostgreSQL",
    "redis": "relayarr vs rq, dramatiq and arq on Redis",
}
ENQUEUE_GOAL: dict[Engine, Goal] = {
    "postgresql": Goal(2_000, inclusive=True),
    "redis": Goal(5_000, inclusive=True),
}
# The issue: PostgreSQL at least 5,000 jobs/s drain (the one-process row is held to it),
# Redis at least 10,000 jobs/s drain with two worker processes.
DRAIN_GOAL: dict[tuple[Engine, int], Goal] = {
    ("postgresql", 1): Goal(5_000, inclusive=True),
    ("redis", 2): Goal(10_000, inclusive=True),
}


@dataclass(slots=True)
class EngineReport:
    engine: Engine
    title: str
    systems: list[System]
    jobs: dict[str, int]
    rows: list[Row]
    ceiling: Row | None
    notes: list[str] = field(default_factory=list)


def _rate(runs: Sequence[Throughput]) -> float | None:
    return median([run.rate for run in runs]) if runs else None


def _best(results: ServerResults, engine: Engine, system: System, processes: int) -> int:
    """The concurrency setting with the best median drain rate (the first when none ran)."""
    rated = [
        (rate, concurrency)
        for concurrency in system.concurrency
        if (rate := _rate(results.runs(engine, drain_key(processes, concurrency), system.name)))
    ]
    return max(rated)[1] if rated else system.concurrency[0]


def build_engine(config: ServerConfig, results: ServerResults, engine: Engine) -> EngineReport:
    systems = results.systems.get(engine, [])
    names = [system.name for system in systems]
    rows: list[Row] = []
    workloads = config.workloads
    if "enqueue" in workloads:
        runs = {name: results.runs(engine, "enqueue", name) for name in names}
        rows.append(
            Row(
                "enqueue, one job per call",
                RATE,
                {name: _rate(runs[name]) for name in names},
                ENQUEUE_GOAL[engine],
                rounds=runs,
            )
        )
    if "drain" in workloads:
        for processes in PROCESSES:
            best = {system.name: _best(results, engine, system, processes) for system in systems}
            runs = {
                name: results.runs(engine, drain_key(processes, best[name]), name) for name in names
            }
            plural = "es" if processes > 1 else ""
            rows.append(
                Row(
                    f"drain, no-op jobs, {processes} worker process{plural}",
                    RATE,
                    {name: _rate(runs[name]) for name in names},
                    DRAIN_GOAL.get((engine, processes)),
                    rounds=runs,
                )
            )
            for system in systems:
                for concurrency in system.concurrency:
                    key = drain_key(processes, concurrency)
                    rows.append(
                        Row(
                            setting(system, concurrency),
                            RATE,
                            {system.name: _rate(results.runs(engine, key, system.name))},
                            detail=True,
                        )
                    )
    if "latency" in workloads:
        for q in (50, 99):
            values: dict[str, float | None] = {
                name: percentile(samples, q) * 1000
                for name in names
                if (samples := results.latencies.get((engine, name)))
            }
            rows.append(Row(f"idle enqueue-to-start, p{q}", MS, values))
    ceiling_runs = results.runs(engine, "ceiling", "raw")
    ceiling = (
        Row(TITLES[engine], RATE, {"raw": _rate(ceiling_runs), "reference": REFERENCE[engine]})
        if ceiling_runs
        else None
    )
    return EngineReport(
        engine=engine,
        title=f"{TITLE[engine]} ({server_version(engine)})",
        systems=systems,
        jobs={system.name: config.jobs_for(system) for system in systems},
        rows=rows,
        ceiling=ceiling,
    )


def setting(system: System, concurrency: int) -> str:
    """A drain setting in the system's own words."""
    if system.name == "rq":
        return "rq, one job at a time (a forked work horse each)"
    knob = {"dramatiq": "worker_threads", "arq": "max_jobs"}.get(system.name, "concurrency")
    return f"{system.name}, {knob} {concurrency}"


def server_version(engine: Engine) -> str:
    """The server's own version line, e.g. ``PostgreSQL 15.8``."""
    if engine == "postgresql":
        from servers import postgres_bindir  # tests/servers.py, on the path via .servers

        command = [str(postgres_bindir() / "postgres"), "--version"]
    else:
        command = [shutil.which("redis-server") or "redis-server", "--version"]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return engine
    found = re.search(r"\d+(\.\d+)+", out)  # "postgres (PostgreSQL) 15.8 (Debian ...)",
    name = "PostgreSQL" if engine == "postgresql" else "Redis"  # "Redis server v=7.0.15 ..."
    return f"{name} {found.group()}" if found else name


# -- rendering ---------------------------------------------------------------------------


def headers(report: EngineReport) -> list[str]:
    columns = ["workload", "unit"]
    ours = report.jobs.get(RELAYARR)
    for system in report.systems:
        jobs = report.jobs[system.name]
        columns.append(system.name if jobs == ours else f"{system.name} ({jobs:,} jobs)")
    columns += [f"x {system.name}" for system in report.systems if system.name != RELAYARR]
    return [*columns, "goal"]


def cells(report: EngineReport, row: Row) -> list[str]:
    title = f"  ↳ {row.title}" if row.detail else row.title
    values = [cell(row.values.get(system.name), row.unit) for system in report.systems]
    ratios = [
        row_ratio(row, system.name) if not row.detail else "—"
        for system in report.systems
        if system.name != RELAYARR
    ]
    return [title, row.unit, *values, *ratios, goal_cell(row)]


CEILING_HEADERS = ("yardstick", "ops/s here", "issue's reference", "here / reference")


def ceiling_cells(row: Row) -> list[str]:
    measured, reference = row.values.get("raw"), row.values.get("reference")
    share = times(measured / reference) if measured and reference else "—"
    return [row.title, cell(measured, RATE), cell(reference, RATE), share]


NOTES = [
    "x peer = relayarr / peer: above 1 relayarr is ahead on a rate, below 1 on a latency; "
    "for rates, the median of each round's own ratio; — means the workload does not apply",
    "servers: started as the tests start them (tests/servers.py): loopback, password auth; "
    "PostgreSQL with fsync and synchronous_commit on; Redis with AOF (appendfsync "
    "everysec). Every measurement gets a fresh database (PostgreSQL) or an emptied Redis; "
    "every system runs on the same server in the same run, rounds interleaved",
    "a peer's column header gives its job count when it differs from relayarr's: peers that "
    "drain a few hundred jobs/s or less run fewer jobs, all else equal (rates are per "
    "second; fewer jobs leave a fixed start-up cost less to spread over, a small handicap)",
    "enqueue: one job per call from one process, sequentially: relayarr `await "
    "queue.add_job(...)`; procrastinate `await task.defer_async()`; rq `queue.enqueue(f)`; "
    "dramatiq `actor.send()`; arq `await pool.enqueue_job(...)`",
    "drain: N no-op jobs pre-filled (untimed), then 1 or 2 worker processes (spawned, "
    "connected and ready before the clock starts) run them; timed until every job ran and "
    "every worker stopped with its results written. Each system's own worker: relayarr "
    "`JobQueue.start` / `stop()`; procrastinate `run_worker_async(wait=False)`; rq "
    "`Worker.work(burst=True)` (a forked work horse per job, rq's default); dramatiq "
    "`Worker(broker, worker_threads)` then `stop()`; arq `Worker(burst=True)`. The best "
    "median over the settings tried is shown (indented rows). Handlers are no-ops that bump "
    "a shared-memory counter; afterwards each system's own records must show every job "
    "finished (relayarr's history, procrastinate's succeeded rows, rq's finished registry, "
    "arq's results, dramatiq's emptied queue) and the counter must equal N",
    "procrastinate's task is async (its advice for I/O work), jobs kept after completion "
    "(its default), LISTEN/NOTIFY on; rq, dramatiq and arq log at WARNING at most; arq "
    "polls every 0.5 s and reads max(5 x max_jobs, 100) jobs per poll (its defaults, with "
    "max_jobs raised as one of the settings tried); dramatiq keeps its default middleware; "
    "arq 0.28 is installed without its redis-py < 6 pin and runs on the project's redis-py; "
    "rq's own `rq worker --burst` command, timed apart from this suite on this machine, "
    "drained no faster than the harness's rq worker (about 55 jobs/s both): the harness "
    "does not handicap it",
    "enqueue-to-start: one idle worker process (concurrency 1) that has run one untimed "
    "warm-up job; this process enqueues one job at a time after a random 1-20 ms pause; "
    "from just before the enqueue call to the handler's first line, on CLOCK_MONOTONIC "
    "(one clock for all processes). relayarr's worker is woken through the server (NOTIFY, "
    "or pub/sub), never in-process",
]


def machine(
    config: ServerConfig, results: ServerResults, argv: Sequence[str], loads: tuple[str, str]
) -> list[tuple[str, str]]:
    versions = ", ".join(
        f"{name} {package_version(name)}"
        for name in ("procrastinate", "psycopg", "asyncpg", "rq", "dramatiq", "arq", "redis")
    )
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("command", command_line(argv)),
        ("machine", f"{os.cpu_count()} CPUs (nproc), {cpu_model()}, {platform.system()}"),
        ("python", platform.python_version()),
        ("relayarr", git_revision()),
        ("load average (1 min) before / after", " / ".join(loads)),
        ("peers and drivers", versions),
        (
            "sizes",
            f"{config.jobs:,} no-op jobs ({config.slow_jobs:,} for the slowest peers), "
            f"median of {config.runs} interleaved run(s); {config.latency_samples} latency "
            "samples pooled over the runs",
        ),
        ("wall time of the server suite", f"{results.elapsed:.0f} s"),
    ]


def markdown(reports: Sequence[EngineReport], lines: Sequence[tuple[str, str]]) -> str:
    out: list[str] = []
    for report in reports:
        out += [f"### {report.title}", ""]
        out += [md_table(headers(report), [cells(report, row) for row in report.rows]), ""]
        if report.ceiling is not None:
            out += [md_table(CEILING_HEADERS, [ceiling_cells(report.ceiling)]), ""]
    out += [
        f"- {name}: `{value}`" if name == "command" else f"- {name}: {value}"
        for name, value in lines
    ]
    out += [f"- {note}" for note in NOTES]
    return "\n".join(out) + "\n"


def print_rich(reports: Sequence[EngineReport], lines: Sequence[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(170, Console().width))
    for report in reports:
        table = Table(title=report.title, title_justify="left")
        for index, name in enumerate(headers(report)):
            table.add_column(name, justify="right" if index >= 2 and name != "goal" else "left")
        for row in report.rows:
            table.add_row(*cells(report, row), style="dim" if row.detail else None)
        console.print(table)
        if report.ceiling is not None:
            yardstick = Table(title=f"raw {report.engine} on this machine", title_justify="left")
            for index, name in enumerate(CEILING_HEADERS):
                yardstick.add_column(name, justify="right" if index else "left")
            yardstick.add_row(*ceiling_cells(report.ceiling))
            console.print(yardstick)
    for name, value in lines:
        console.print(f"[bold]{name}[/bold]: {value}", highlight=False, soft_wrap=True)
    for note in NOTES:
        console.print(f"- {note}", highlight=False, soft_wrap=True)
