""" "``python -m benchmarks``: run the suites, print the tables, write bench-results/latest.md.

The SQLite suite (against huey) runs in this process; the server suite (against
procrastinate on PostgreSQL; rq, dramatiq and arq on Redis) starts throwaway servers.

>>> python -m benchmarks --quick              # doctest: +SKIP
>>> python -m benchmarks --only drain,latency --runs 5
>>> python -m benchmarks --engines postgresql,redis --jobs 5000
>>> python -m benchmarks --only wake --wake-concurrency 1,4,8
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import report, wake
from benchmarks.server_suite import report as server_report
from benchmarks.server_suite.suite import ENGINES as SERVER_ENGINES
from benchmarks.server_suite.suite import WORKLOADS as SERVER_WORKLOADS
from benchmarks.server_suite.suite import ServerConfig, ServerRunner
from benchmarks.suite import WORKLOADS, Config, Runner, log

DEFAULT_OUTPUT = Path("bench-results/latest.md")
ENGINES = ("sqlite", "postgresql", "redis")


def _counts(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,8,32, got {text!r}") from exc
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


def _csv(values: Sequence[int]) -> str:
    return ",".join(str(value) for value in values)


def _positive(text: str) -> int:
    value = _counts(text)
    if len(value) != 1:
        raise argparse.ArgumentTypeError(f"expected one positive number, got {text!r}")
    return value[0]


def _workloads(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in (*WORKLOADS, wake.WAKE)]
    if unknown or not names:
        choices = ", ".join((*WORKLOADS, wake.WAKE))
        raise argparse.ArgumentTypeError(
            f"unknown workload(s) {', '.join(unknown) or text!r}; choose from {choices}"
        )
    return names


def _engines(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in ENGINES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown engine(s) {', '.join(unknown) or text!r}; choose from {', '.join(ENGINES)}"
        )
    return names


def parse_args(argv: Sequence[str] | None = None) -> tuple[Config, argparse.Namespace]:
    defaults = Config()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="relayarr's job queue against huey on SQLite, procrastinate on PostgreSQL, "
        "and rq, dramatiq and arq on Redis, on this machine.",
    )
    parser.add_argument("--quick", action="store_true", help="a small run (well under a minute)")
    parser.add_argument(
        "--jobs", type=_positive, help=f"jobs per workload (default {defaults.jobs:,})"
    )
    parser.add_argument(
        "--batch-jobs",
        type=_positive,
        help=f"jobs in the big add_jobs call (default {defaults.batch_jobs:,})",
    )
    parser.add_argument(
        "--runs", type=_positive, help=f"runs per workload (default {defaults.runs})"
    )
    parser.add_argument(
        "--concurrency",
        type=_counts,
        help=f"relayarr drain concurrencies, best reported (default {_csv(defaults.concurrency)})",
    )
    parser.add_argument(
        "--huey-workers",
        type=_counts,
        help=f"huey consumer threads to try, best reported (default {_csv(defaults.huey_workers)})",
    )
    parser.add_argument(
        "--latency-samples",
        type=_positive,
        help="idle latency samples, spread over the runs (default "
        f"{defaults.latency_samples}; {ServerConfig().latency_samples} on the servers)",
    )
    parser.add_argument(
        "--history-rows",
        type=_positive,
        help=f"history rows for the claim-cost workload (default {defaults.history_rows:,})",
    )
    parser.add_argument(
        "--history-runs",
        type=_positive,
        help=f"runs of the history workload (default {defaults.history_runs})",
    )
    parser.add_argument(
        "--pair-jobs",
        type=_positive,
        help=f"claim+complete pairs timed per history run (default {defaults.pair_jobs:,})",
    )
    parser.add_argument(
        "--only",
        type=_workloads,
        help=f"run only these workloads: {', '.join((*WORKLOADS, wake.WAKE))} (wake: idle "
        "start with the worker in this process and in another, on every engine)",
    )
    parser.add_argument(
        "--wake-concurrency",
        type=_counts,
        help=f"worker concurrencies of the wake workload (default {wake.DEFAULT_CONCURRENCY})",
    )
    parser.add_argument("--no-huey", action="store_true", help="skip the huey peer")
    parser.add_argument(
        "--engines",
        type=_engines,
        default=ENGINES,
        help=f"suites to run: {', '.join(ENGINES)} (default all; the servers are throwaway)",
    )
    parser.add_argument(
        "--slow-jobs",
        type=_positive,
        help="jobs per workload for the slowest server peers (procrastinate, rq, arq; "
        "default 2,000)",
    )
    parser.add_argument(
        "--no-peers", action="store_true", help="skip every peer (huey and the server peers)"
    )
    parser.add_argument("--tmpdir", type=Path, help="where the database files go (on disk!)")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"Markdown copy of the table (default {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)
    config = Config.quick() if args.quick else defaults
    overrides = {
        "jobs": args.jobs,
        "batch_jobs": args.batch_jobs,
        "runs": args.runs,
        "concurrency": args.concurrency,
        "huey_workers": args.huey_workers,
        "latency_samples": args.latency_samples,
        "history_rows": args.history_rows,
        "history_runs": args.history_runs,
        "pair_jobs": args.pair_jobs,
        "workloads": args.only,
        "tmpdir": args.tmpdir,
    }
    config = dataclasses.replace(
        config, **{name: value for name, value in overrides.items() if value is not None}
    )
    if args.no_huey or args.no_peers:
        config = dataclasses.replace(config, peers=False)
    return config, args


def server_config(config: Config, args: argparse.Namespace) -> ServerConfig | None:
    """The server suite's settings, from the same flags; None when it has nothing to run."""
    engines = tuple(engine for engine in args.engines if engine in SERVER_ENGINES)
    workloads = tuple(name for name in config.workloads if name in SERVER_WORKLOADS)
    if not engines or not workloads:
        return None
    defaults = ServerConfig.quick() if args.quick else ServerConfig()
    return dataclasses.replace(
        defaults,
        engines=engines,
        workloads=workloads,
        jobs=args.jobs or defaults.jobs,
        slow_jobs=args.slow_jobs or min(defaults.slow_jobs, args.jobs or defaults.slow_jobs),
        runs=args.runs or defaults.runs,
        latency_samples=args.latency_samples or defaults.latency_samples,
        peers=not args.no_peers,
    )


def wake_config(config: Config, args: argparse.Namespace) -> wake.WakeConfig | None:
    """The wake workload's settings; None unless it runs (it does unless --only leaves it out)."""
    if args.only is not None and wake.WAKE not in args.only:
        return None
    defaults = wake.WakeConfig()
    return dataclasses.replace(
        defaults,
        engines=args.engines,
        concurrency=args.wake_concurrency or defaults.concurrency,
        samples=config.latency_samples if args.latency_samples or args.quick else defaults.samples,
        runs=config.runs,
        tmpdir=config.tmpdir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    config, args = parse_args(argv)
    servers = server_config(config, args)
    wakes = wake_config(config, args)
    sections: list[str] = []
    try:
        if "sqlite" in args.engines and any(name in WORKLOADS for name in config.workloads):
            load_before = report.loadavg()
            log(
                f"sqlite: {', '.join(config.workloads)}, {config.jobs:,} jobs, {config.runs} run(s)"
            )
            results = Runner(config).run()
            built = report.build(config, results, argv, (load_before, report.loadavg()))
            report.print_rich(built)
            sections.append(report.markdown(built))
        if servers is not None:
            load_before = report.loadavg()
            engines = ", ".join(servers.engines)
            log(f"servers: {engines}, {servers.jobs:,} jobs, {servers.runs} run(s)")
            server_results = ServerRunner(servers).run()
            loads = (load_before, report.loadavg())
            tables = [
                server_report.build_engine(servers, server_results, engine)
                for engine in servers.engines
            ]
            lines = server_report.machine(servers, server_results, argv, loads)
            server_report.print_rich(tables, lines)
            sections.append(server_report.markdown(tables, lines))
        if wakes is not None:
            log(f"wake: {', '.join(wakes.engines)}, concurrency {_csv(wakes.concurrency)}")
            wake_results = wake.run(wakes)
            wake.print_rich(wakes, wake_results)
            sections.append(wake.markdown(wakes, wake_results, report.command_line(argv)))
    except KeyboardInterrupt:
        log("interrupted; nothing written")
        return 130
    output: Path = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(sections), encoding="utf-8")
    log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
