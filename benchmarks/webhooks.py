"""``python -m benchmarks.webhooks``: webhook ack latency and the highest sustained rate.

A real ``relayarr serve`` (HTTP and workers in one process, SQLite, default logging) on a
free loopback port, and a load generator in a separate process: an open-loop asyncio
HTTP/1.1 client over keep-alive connections that sends a Radarr ``Download`` body on a
fixed schedule. Latency is measured from each request's *scheduled* send time to its
answer, so a stalled server is charged for the requests it kept waiting (no coordinated
omission).

Phases: 200 and 1,000 requests/s for ``--seconds`` each, then the highest rate. That is
measured with wrk (:mod:`benchmarks.wrk`) when it is installed: a C load generator that
leaves the server the CPU a Python client would take on a small machine, sending as fast
as the server answers over the same 64 connections (``scripts/ensure-wrk.sh`` installs it;
``make bench`` runs that first). Without wrk, or with ``--generator python``, the Python
client offers rising rates until the server falls behind (answers < 98% of the offered
rate, or p99 over 100 ms), and the highest rate it kept up with is the sustained rate.
Last, every 202's job id is looked up in the SQLite file: each must be there exactly once,
and every stored webhook job must have been answered 202 (bar the requests wrk still had
in flight when it stopped, at most one per connection, whose answers it never read).

>>> python -m benchmarks.webhooks --quick          # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.common import percentile
from benchmarks.wrk import run_wrk, wrk_path

KEY = "benchmark-key-0123456789abcdef"
BODY_FILE = Path(__file__).parent.parent / "tests" / "fixtures" / "arr" / "radarr" / "download.json"
DEFAULT_OUTPUT = Path("bench-results/webhooks.md")
CONNECTIONS = 64
GOAL_P99_MS = 5.0
GOAL_RATE = 2000
KEEP_UP = 0.98  # answered / offered below this: the server fell behind
MAX_P99_MS = 100.0
RAMP = (2000, 3000, 4000, 5000, 6000, 8000)


# -- the load generator (runs in its own process) -------------------------------------------


@dataclass(frozen=True, slots=True)
class Phase:
    """One rate's outcome, as the generator reports it."""

    offered: float  # requests/s scheduled
    seconds: float
    sent: int
    answered_202: int
    other: dict[str, int]
    achieved: float  # answers/s over the phase
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    job_ids: list[int]


def build_request(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {KEY}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def generate(port: int, rate: float, seconds: float, connections: int) -> Phase:
    """Send ``rate`` requests per second for ``seconds``; time each from its schedule."""
    request = build_request("/api/v1/webhooks/radarr", BODY_FILE.read_bytes())
    total = max(1, int(rate * seconds))
    due: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    job_ids: list[int] = []
    finished_at = [0.0]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (scheduled := await due.get()) is not None:
                writer.write(request)
                status, body = await _read_response(reader)
                now = time.perf_counter()
                latencies.append(now - scheduled)
                finished_at[0] = max(finished_at[0], now)
                if status == 202:
                    job_ids.append(json.loads(body)["job_id"])
                else:
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # connections open before the clock starts
    start = time.perf_counter() + 0.01
    sent = 0
    while sent < total:
        now = time.perf_counter()
        next_due = start + sent / rate
        if next_due > now:
            await asyncio.sleep(next_due - now)
            continue
        while sent < total and start + sent / rate <= now:
            due.put_nowait(start + sent / rate)
            sent += 1
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = max(finished_at[0] - start, 1e-9)
    ms = [value * 1000 for value in latencies]
    return Phase(
        offered=rate,
        seconds=seconds,
        sent=sent,
        answered_202=len(job_ids),
        other=statuses,
        achieved=len(latencies) / elapsed,
        p50_ms=percentile(ms, 50),
        p90_ms=percentile(ms, 90),
        p99_ms=percentile(ms, 99),
        p999_ms=percentile(ms, 99.9),
        max_ms=max(ms),
        job_ids=job_ids,
    )


def _generator_main(port: int, rate: float, seconds: float, connections: int) -> None:
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        phase = runner.run(generate(port, rate, seconds, connections))
    sys.stdout.write(json.dumps(asdict(phase)))


def run_phase(port: int, rate: float, seconds: float, connections: int = CONNECTIONS) -> Phase:
    """Run the generator in a separate process and read its report."""
    argv = [sys.executable, "-m", "benchmarks.webhooks", "--generate", str(port)]
    argv += ["--rate", str(rate), "--seconds", str(seconds), "--connections", str(connections)]
    root = Path(__file__).resolve().parent.parent  # where `-m benchmarks...` resolves
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=True, timeout=600)
    return Phase(**json.loads(done.stdout))


# -- the server ----------------------------------------------------------------------------


class Server:
    """``relayarr serve`` in a temporary directory, stopped with SIGTERM."""

    def __init__(self, workdir: Path, extra: Sequence[str] = ()) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port: int = sock.getsockname()[1]
        self.workdir = workdir
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYARR_")}
        env.update(RELAYARR_DATA_DIR=str(workdir / "data"), RELAYARR_API_KEY=KEY)
        script = Path(sys.executable).with_name("relayarr")
        argv = [str(script)] if script.exists() else [sys.executable, "-m", "relayarr"]
        self.log = (workdir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [*argv, "serve", "--port", str(self.port), *extra],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{self.port}/api/v1/health"
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"relayarr serve did not start; see {self.workdir / 'serve.log'}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=60)
        self.log.close()
        return code

    @property
    def database(self) -> Path:
        return self.workdir / "data" / "queue.db"

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used so far (Linux), else None."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pending_webhooks(database: Path) -> int:
    """Webhook jobs stored and not finished yet (read while the server runs: WAL)."""
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT count(*) FROM job_queue WHERE type = 'webhook'").fetchone()
    return int(row[0])


def stored_webhook_ids(database: Path) -> list[int]:
    """Ids of every webhook job in the file, active or finished (duplicates kept)."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT id FROM job_queue WHERE type = 'webhook' "
            "UNION ALL SELECT id FROM job_history WHERE type = 'webhook'"
        ).fetchall()
    return [int(row[0]) for row in rows]


# -- the run -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    phases: list[Phase]
    cpu_us: list[float | None]  # server CPU per answered request, per phase
    sustained: float | None
    generator: str  # of the highest rate: "wrk" or "python"
    backlog: int  # webhook jobs not yet run when the last phase ended
    accepted: int
    stored: int
    matched: bool
    problems: list[str]


def kept_up(phase: Phase) -> bool:
    return (
        phase.answered_202 == phase.sent
        and phase.achieved >= KEEP_UP * phase.offered
        and phase.p99_ms <= MAX_P99_MS
    )


def run(
    seconds: float, ramp: Sequence[int], extra: Sequence[str], wrk: str | None = None
) -> Outcome:
    """Run the phases against a fresh server; the highest rate with ``wrk`` (its path)
    when given, else with the Python client over ``ramp``."""
    with tempfile.TemporaryDirectory(prefix="relayarr-bench-web-") as tmp:
        server = Server(Path(tmp), extra)
        phases: list[Phase] = []
        cpu_us: list[float | None] = []

        def measured(rate: float) -> Phase:
            before = server.cpu_seconds()
            if rate:
                phase = run_phase(server.port, rate, seconds)
            else:
                assert wrk is not None
                fields = run_wrk(wrk, server.port, seconds, CONNECTIONS, KEY, BODY_FILE)
                phase = Phase(**fields)
            after = server.cpu_seconds()
            phases.append(phase)
            answered = phase.answered_202 + sum(phase.other.values())
            if before is None or after is None or not answered:
                cpu_us.append(None)
            else:
                cpu_us.append((after - before) / answered * 1e6)
            log(phase, cpu_us[-1])
            return phase

        try:
            warmup = run_phase(server.port, 200, 1.0)  # imports, first connections
            for rate in (200, 1000):
                measured(rate)
            sustained: float | None = None
            if wrk is not None:
                top = measured(0)
                if top.answered_202 == top.sent and not top.other:
                    sustained = top.achieved
            else:
                for rate in ramp:
                    if not kept_up(measured(rate)):
                        break
                    sustained = rate
            backlog = pending_webhooks(server.database)
        finally:
            code = server.stop()
        ids = [job_id for phase in (warmup, *phases) for job_id in phase.job_ids]
        stored = stored_webhook_ids(server.database)
        problems = []
        if code != 0:
            problems.append(f"relayarr serve exited with {code}")
        if len(ids) != len(set(ids)):
            problems.append("a job id was answered twice")
        if len(stored) != len(set(stored)):
            problems.append("a job is stored twice")
        if not set(ids) <= set(stored):
            problems.append(f"{len(set(ids) - set(stored))} acknowledged jobs are not stored")
        unanswered = set(stored) - set(ids)
        # wrk stops with a request in flight on each connection: stored, never read.
        if len(unanswered) > (CONNECTIONS if wrk is not None else 0):
            problems.append(f"{len(unanswered)} stored jobs were never acknowledged")
        return Outcome(
            phases=phases,
            cpu_us=cpu_us,
            sustained=sustained,
            generator="wrk" if wrk is not None else "python",
            backlog=backlog,
            accepted=len(ids),
            stored=len(stored),
            matched=not problems,
            problems=problems,
        )


def _offered(phase: Phase) -> str:
    return f"{phase.offered:,.0f}" if phase.offered else f"max (wrk, {CONNECTIONS} conn.)"


def log(phase: Phase, cpu_us: float | None) -> None:
    cpu = f", server CPU {cpu_us:4.0f} us/request" if cpu_us is not None else ""
    sys.stderr.write(
        f"  {_offered(phase):>6}/s offered: {phase.achieved:7.0f}/s answered, "
        f"p50 {phase.p50_ms:6.2f} ms, p99 {phase.p99_ms:7.2f} ms, "
        f"202s {phase.answered_202}/{phase.sent}{cpu}\n"
    )


def report(outcome: Outcome, mode: str) -> str:
    lines = [
        f"### Webhook intake: `relayarr serve {mode}`".rstrip(),
        "",
        "| offered (req/s) | answered (req/s) | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) "
        "| max (ms) | 202s / sent | server CPU (us/req) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p, cpu in zip(outcome.phases, outcome.cpu_us, strict=True):
        lines.append(
            f"| {_offered(p)} | {p.achieved:,.0f} | {p.p50_ms:.2f} | {p.p90_ms:.2f} "
            f"| {p.p99_ms:.2f} | {p.p999_ms:.2f} | {p.max_ms:.1f} | "
            f"{p.answered_202:,} / {p.sent:,} | {'-' if cpu is None else f'{cpu:.0f}'} |"
        )
    at_200 = outcome.phases[0]
    sustained = f"{outcome.sustained:,.0f} req/s" if outcome.sustained else "below the ramp"
    if outcome.generator == "wrk":
        meaning = (
            f"what the server answered with wrk keeping {CONNECTIONS} requests in flight, "
            "every answer a 202 (a saturated server: latency is queueing there)"
        )
    else:
        meaning = (
            f"every request answered 202, >= {KEEP_UP:.0%} of the offered rate, "
            f"p99 <= {MAX_P99_MS:g} ms (Python client; install wrk for a lighter one)"
        )
    lines += [
        "",
        f"- p99 at 200 req/s: {at_200.p99_ms:.2f} ms (goal < {GOAL_P99_MS:g} ms: "
        f"{'met' if at_200.p99_ms < GOAL_P99_MS else 'NOT met'})",
        f"- highest sustained rate: {sustained} (goal >= {GOAL_RATE:,}: "
        f"{'met' if (outcome.sustained or 0) >= GOAL_RATE else 'NOT met'}); sustained = "
        f"{meaning}",
        f"- webhook jobs not yet run when the last phase ended: {outcome.backlog:,} "
        + (
            "(--no-workers: nothing runs them here)"
            if "--no-workers" in mode
            else "(the workers share the process and its CPU with the intake, which a "
            "saturated server gives the requests first; they catch up afterwards)"
        ),
        f"- every 202 matched by exactly one stored job: "
        f"{'yes' if outcome.matched else 'NO: ' + '; '.join(outcome.problems)} "
        f"({outcome.accepted:,} acknowledged, {outcome.stored:,} stored)",
        f"- machine: {os.cpu_count()} CPUs, load average {_load()} at the end; the load "
        "generator runs on the same machine",
        "",
    ]
    return "\n".join(lines)


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhooks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 s per rate (default 10 s)")
    parser.add_argument("--seconds", type=float, help="seconds per rate")
    parser.add_argument("--no-workers", action="store_true", help="serve --no-workers")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator of the highest-rate phase (auto: wrk when installed)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--generate", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate is not None:
        _generator_main(args.generate, args.rate, args.seconds, args.connections)
        return 0
    seconds = args.seconds or (2.0 if args.quick else 10.0)
    extra = ("--no-workers",) if args.no_workers else ()
    mode = "--no-workers" if args.no_workers else "(HTTP and workers in one process)"
    wrk = wrk_path() if args.generator != "python" else None
    if wrk is None and args.generator == "wrk":
        parser.error("wrk is not installed: run scripts/ensure-wrk.sh (or apt-get install wrk)")
    if wrk is None and args.generator == "auto":
        sys.stderr.write(
            "wrk not found (scripts/ensure-wrk.sh installs it): the highest rate comes from "
            "the Python client, which takes CPU the server could have used\n"
        )
    sys.stderr.write(f"webhook load test, {seconds:g} s per rate, {mode}\n")
    outcome = run(seconds, RAMP, extra, wrk)
    text = report(outcome, mode)
    sys.stdout.write(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    return 0 if outcome.matched else 1


if __name__ == "__main__":
    raise SystemExit(main())
