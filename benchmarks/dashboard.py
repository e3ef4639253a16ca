"""``python -m benchmarks.dashboard``: the queue page's first paint and its event handling.

A real ``relayarr serve`` (SQLite) whose database holds ``--history`` finished jobs
(100,000 by default) and 1,000 pending ones, and Debian's Chromium driven by Playwright
(``/usr/bin/chromium``; ``scripts/ensure-chromium.sh`` installs it).

1. **First paint**: the queue page (and the history page) loaded ``--rounds`` times while
   the queue is idle; the browser's own ``first-contentful-paint`` and the server's answer
   time (navigation timing), medians and worst.
2. **Events**: a thread appends synthetic events (added, started, progress, completed, as
   jobs make them) to the shared event log at ``--rate`` per second (1,000 by default); the
   server follows the log and sends them over the WebSocket to the open queue page, which
   applies them once per animation frame. Measured in the page over ``--seconds``: events
   applied per second, frames drawn per second and the gaps between them, long tasks
   (over 50 ms), and how soon a frame follows a request for one (responsiveness).
3. First paint again, while the events keep arriving.

Nothing here is asserted; ``tests/browser/test_dashboard_bench.py`` only checks that it
runs. Figures are recorded in ``docs/dashboard.md``.

>>> python -m benchmarks.dashboard --quick      # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.webhooks import KEY, Server
from relayarr.jobqueue import Event, EventKind, Job, JobId, JobStatus, open_storage
from relayarr.jobqueue.storage import EventLog, JobImport

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PENDING = 1000
SYNTHETIC_IDS = 50_000_000  # synthetic events name jobs from here on
BATCHES_PER_SECOND = 50

# -- the database --------------------------------------------------------------------------


async def seed(database: Path, history: int) -> None:
    """``history`` finished jobs over the last day (1 in 10 failed) and PENDING pending
    jobs of a type nothing handles, so they stay in the active list."""
    database.parent.mkdir(parents=True, exist_ok=True)
    storage = await open_storage(f"sqlite:///{database}")
    try:
        assert isinstance(storage, JobImport)
        now = time.time()
        jobs: list[Job] = []
        for n in range(1, history + 1):
            created = now - 86_000 + 86_000 * n / max(history, 1)
            failed = n % 10 == 0
            jobs.append(
                Job(
                    id=JobId(n),
                    type=("webhook", "scan-movie", "notify-players")[n % 3],
                    payload={"source": "radarr", "path": f"/movies/Movie {n} (2020)"},
                    priority=5,
                    status=JobStatus.FAILED if failed else JobStatus.COMPLETED,
                    attempts=3 if failed else 1,
                    max_attempts=3,
                    run_at=datetime.fromtimestamp(created, UTC),
                    created_at=datetime.fromtimestamp(created, UTC),
                    started_at=datetime.fromtimestamp(created + 0.01, UTC),
                    finished_at=datetime.fromtimestamp(created + 0.05, UTC),
                    last_error="RuntimeError: player unreachable" if failed else None,
                )
            )
            if len(jobs) == 10_000:
                await storage.import_jobs(jobs)
                jobs = []
        await storage.import_jobs(jobs)
        storage_jobs = [("bench-idle", {"n": n}) for n in range(PENDING)]
        from relayarr.jobqueue import JobQueue, JobSpec

        queue = JobQueue(storage, strict_types=False)
        await queue.add_jobs([JobSpec(t, p) for t, p in storage_jobs])
    finally:
        await storage.aclose()


# -- the event source ----------------------------------------------------------------------


def synthetic(index: int) -> Event:
    """The ``index``-th event of a stream of jobs that are added, start, report progress
    and complete (four events a job)."""
    job_id = JobId(SYNTHETIC_IDS + index // 4)
    step = index % 4
    now = datetime.now(UTC)
    if step == 0:
        return Event(
            0, EventKind.ADDED, now, job_id, "bench", {"priority": 5, "run_at": now.isoformat()}
        )
    if step == 1:
        return Event(0, EventKind.STARTED, now, job_id, "bench", {"attempt": 1})
    if step == 2:
        return Event(
            0,
            EventKind.PROGRESS,
            now,
            job_id,
            "bench",
            {"fraction": 0.5, "message": "half", "attempt": 1},
        )
    done = {"attempt": 1, "duration_ms": 3.0, "follow_ups": 0}
    return Event(0, EventKind.COMPLETED, now, job_id, "bench", done)


class EventSource(threading.Thread):
    """Appends synthetic events to the shared log at ``rate`` a second, in small batches,
    from its own thread and event loop, until stopped."""

    def __init__(self, database: Path, rate: float) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.rate = rate
        self.sent = 0
        self.started_at = 0.0
        self.stopped_at = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        asyncio.run(self._append())

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    async def _append(self) -> None:
        storage = await open_storage(f"sqlite:///{self.database}", create=False)
        assert isinstance(storage, EventLog)
        batch = max(1, round(self.rate / BATCHES_PER_SECOND))
        interval = batch / self.rate
        self.started_at = next_at = time.monotonic()
        try:
            while not self._stop_event.is_set():
                await storage.append_events([synthetic(self.sent + i) for i in range(batch)])
                self.sent += batch
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        finally:
            self.stopped_at = time.monotonic()
            await storage.aclose()


# -- the page ------------------------------------------------------------------------------

FIRST_PAINT_JS = """() => {
  const paint = performance.getEntriesByType('paint')
    .find((entry) => entry.name === 'first-contentful-paint');
  const nav = performance.getEntriesByType('navigation')[0];
  return {fcp: paint ? paint.startTime : null, response: nav.responseEnd - nav.requestStart};
}"""

WATCH_JS = """(seconds) => new Promise((resolve) => {
  const live = window.relayarrLive;
  const gaps = [];
  const longTasks = [];
  const waits = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({type: 'longtask', buffered: false});
  const handledBefore = live.handled;
  const start = performance.now();
  let last = start;
  function frame(now) {
    gaps.push(now - last);
    last = now;
    if (now - start < seconds * 1000) requestAnimationFrame(frame);
    else finish(now);
  }
  // Responsiveness: how soon a frame comes after the page asks for one, ten times a second.
  const probe = setInterval(() => {
    const asked = performance.now();
    requestAnimationFrame(() => waits.push(performance.now() - asked));
  }, 100);
  function finish(now) {
    clearInterval(probe);
    observer.disconnect();
    resolve({
      elapsed_ms: now - start,
      handled: live.handled - handledBefore,
      frames: gaps.length,
      gaps, longTasks, waits,
      rows: document.querySelectorAll('#running tr, #pending tr, #finished li').length,
    });
  }
  requestAnimationFrame(frame);
})"""


@dataclass(frozen=True, slots=True)
class PaintFigures:
    page: str
    rounds: int
    fcp_median_ms: float
    fcp_max_ms: float
    response_median_ms: float


@dataclass(frozen=True, slots=True)
class EventFigures:
    offered_per_s: float
    sent_per_s: float
    applied_per_s: float
    frames_per_s: float
    frame_gap_p50_ms: float
    frame_gap_p99_ms: float
    frame_gap_max_ms: float
    long_tasks: int
    long_task_ms: float
    frame_wait_p50_ms: float
    frame_wait_max_ms: float
    dom_rows: int


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def first_paint(page: Any, base: str, path: str, rounds: int) -> PaintFigures:
    fcps: list[float] = []
    responses: list[float] = []
    for _ in range(rounds):
        page.goto(base + path, wait_until="load")
        page.wait_for_function(
            "() => performance.getEntriesByType('paint')"
            ".some((e) => e.name === 'first-contentful-paint')"
        )
        found = page.evaluate(FIRST_PAINT_JS)
        fcps.append(float(found["fcp"]))
        responses.append(float(found["response"]))
    return PaintFigures(
        path, rounds, statistics.median(fcps), max(fcps), statistics.median(responses)
    )


def watch_events(page: Any, source: EventSource, seconds: float) -> EventFigures:
    sent_before, clock_before = source.sent, time.monotonic()
    found = page.evaluate(WATCH_JS, seconds)
    sent = source.sent - sent_before
    elapsed = time.monotonic() - clock_before
    gaps = [float(g) for g in found["gaps"]][1:]
    waits = [float(w) for w in found["waits"]]
    long_tasks = [float(t) for t in found["longTasks"]]
    page_seconds = float(found["elapsed_ms"]) / 1000
    return EventFigures(
        offered_per_s=source.rate,
        sent_per_s=sent / elapsed,
        applied_per_s=int(found["handled"]) / page_seconds,
        frames_per_s=int(found["frames"]) / page_seconds,
        frame_gap_p50_ms=_pct(gaps, 0.5),
        frame_gap_p99_ms=_pct(gaps, 0.99),
        frame_gap_max_ms=max(gaps, default=0.0),
        long_tasks=len(long_tasks),
        long_task_ms=sum(long_tasks),
        frame_wait_p50_ms=_pct(waits, 0.5),
        frame_wait_max_ms=max(waits, default=0.0),
        dom_rows=int(found["rows"]),
    )


def run(history: int, rate: float, seconds: float, rounds: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="relayarr-dashboard-bench-") as tmp:
        workdir = Path(tmp)
        database = workdir / "data" / "queue.db"
        began = time.monotonic()
        asyncio.run(seed(database, history))
        seeded = time.monotonic() - began
        server = Server(workdir, ["--no-workers"])
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                base = f"http://127.0.0.1:{server.port}"
                page.goto(base + "/login")
                page.fill("#api_key", KEY)
                page.click("button[type=submit]")
                page.wait_for_url(base + "/")
                idle = [first_paint(page, base, path, rounds) for path in ("/", "/history")]
                page.goto(base + "/")
                page.wait_for_function(
                    "() => document.getElementById('live').dataset.state === 'live'"
                )
                source = EventSource(database, rate)
                source.start()
                try:
                    time.sleep(1.0)  # let the stream settle in before measuring
                    events = watch_events(page, source, seconds)
                    busy = first_paint(page, base, "/", rounds)
                finally:
                    source.stop()
                browser.close()
        finally:
            server.stop()
    return {
        "history_jobs": history,
        "pending_jobs": PENDING,
        "seed_seconds": round(seeded, 1),
        "first_paint_idle": [asdict(f) for f in idle],
        "events": asdict(events),
        "first_paint_under_events": asdict(busy),
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"history: {result['history_jobs']:,} jobs, {result['pending_jobs']:,} pending "
        f"(seeded in {result['seed_seconds']} s)",
        "",
        "| page | when | first contentful paint, median (max) | server answer, median |",
        "|---|---|---:|---:|",
    ]
    paints = [(f, "idle") for f in result["first_paint_idle"]]
    paints.append((result["first_paint_under_events"], "events arriving"))
    for figures, when in paints:
        lines.append(
            f"| {figures['page']} | {when} | {figures['fcp_median_ms']:.0f} ms "
            f"({figures['fcp_max_ms']:.0f} ms) | {figures['response_median_ms']:.1f} ms |"
        )
    ev = result["events"]
    lines += [
        "",
        f"events offered {ev['offered_per_s']:,.0f}/s, appended {ev['sent_per_s']:,.0f}/s, "
        f"applied by the page {ev['applied_per_s']:,.0f}/s",
        f"frames {ev['frames_per_s']:.1f}/s; gap between frames "
        f"p50 {ev['frame_gap_p50_ms']:.1f} ms, p99 {ev['frame_gap_p99_ms']:.1f} ms, "
        f"max {ev['frame_gap_max_ms']:.1f} ms",
        f"long tasks (> 50 ms): {ev['long_tasks']} ({ev['long_task_ms']:.0f} ms in all); "
        f"a requested frame came after p50 {ev['frame_wait_p50_ms']:.1f} ms, "
        f"max {ev['frame_wait_max_ms']:.1f} ms",
        f"rows in the page's lists: {ev['dom_rows']}",
    ]  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard", description=__doc__)
    parser.add_argument("--history", type=int, default=100_000, help="finished jobs stored")
    parser.add_argument("--rate", type=float, default=1000.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="events watched for")
    parser.add_argument("--rounds", type=int, default=10, help="page loads per first paint")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.history, args.rate, args.seconds, args.rounds = 300, 100.0, 1.0, 2
    result = run(args.history, args.rate, args.seconds, args.rounds)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
