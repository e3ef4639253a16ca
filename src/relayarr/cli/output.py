"""What the CLI prints: JSON for scripts on stdout, rich tables for people, progress on stderr.

Kept apart from the commands so they read as what they do, and so the JSON shapes
(a public contract for scripts) live in one place: :func:`job_json` and :func:`stats_json`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import TracebackType

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from relayarr.durations import UNIT_SECONDS as _UNIT_SECONDS
from relayarr.durations import parse_duration as parse_duration
from relayarr.jobqueue import Job, JobStatus, JSONValue, Page, QueueStats

STATUSES = tuple(JobStatus)

# -- JSON ----------------------------------------------------------------------------------


def emit_json(value: object) -> None:
    """Print one JSON document on stdout."""
    typer.echo(json.dumps(value, ensure_ascii=False))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def job_json(job: Job) -> dict[str, JSONValue]:
    """A job as JSON: every field but the lease token (a write capability, not data)."""
    return {
        "id": job.id,
        "type": job.type,
        "status": job.status.value,
        "priority": job.priority,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "payload": job.payload,
        "run_at": _iso(job.run_at),
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "last_error": job.last_error,
        "unique_key": job.unique_key,
        "parent_id": job.parent_id,
        "result": job.result,
        "lease_owner": job.lease_owner,
        "lease_expires_at": _iso(job.lease_expires_at),
        "rescues": job.rescues,
    }


def stats_json(stats: QueueStats) -> dict[str, JSONValue]:
    """Counts by type and status, totals by status, oldest pending age, recent throughput."""
    by_type: dict[str, JSONValue] = {
        job_type: {status.value: getattr(counts, status.value) for status in STATUSES}
        for job_type, counts in sorted(stats.by_type.items())
    }
    return {
        "by_type": by_type,
        "totals": {status.value: stats.count(status) for status in STATUSES},
        "oldest_pending_age": stats.oldest_pending_age,
        "finished_last_minute": stats.finished_last_minute,
    }


# -- people --------------------------------------------------------------------------------


def _console() -> Console:
    return Console(highlight=False)


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """``3m ago`` or ``in 20s``: how far ``moment`` is from now, in its largest unit."""
    if moment is None:
        return "-"
    delta = ((now or datetime.now(UTC)) - moment).total_seconds()
    text = span(abs(delta))
    return f"{text} ago" if delta >= 0 else f"in {text}"


def span(seconds: float) -> str:
    """``45s``, ``12m``, ``3h``, ``2d``: a length of time in its largest whole unit."""
    for unit in ("d", "h", "m"):
        if seconds >= _UNIT_SECONDS[unit]:
            return f"{int(seconds // _UNIT_SECONDS[unit])}{unit}"
    return f"{int(seconds)}s"


def _short(text: str | None, width: int = 60) -> str:
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def jobs_table(page: Page) -> None:
    """A table of jobs, and how to get the next page if there is one."""
    console = _console()
    if not page.jobs:
        console.print("no jobs")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("ID", "TYPE", "STATUS", "PRI", "TRIES", "CREATED", "RUN AT", "LAST ERROR"):
        table.add_column(column, no_wrap=column != "LAST ERROR")
    now = datetime.now(UTC)
    for job in page.jobs:
        table.add_row(
            str(job.id),
            job.type,
            job.status.value,
            str(job.priority),
            f"{job.attempts}/{job.max_attempts}",
            age(job.created_at, now),
            age(job.run_at, now) if job.status is JobStatus.PENDING else "",
            _short(job.last_error),
        )
    console.print(table)
    if page.next_cursor is not None:
        console.print(f"more: relayarr jobs list --cursor {page.next_cursor}")


def job_details(job: Job) -> None:
    """Every field of one job, one per line; payload and result as indented JSON."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in job_json(job).items():
        if value is None:
            continue
        shown = (
            json.dumps(value, indent=2, ensure_ascii=False)
            if key in ("payload", "result")
            else value
        )
        grid.add_row(key, str(shown))
    _console().print(grid)


def stats_table(stats: QueueStats) -> None:
    """Counts per type and status with a total row, then queue age and throughput."""
    console = _console()
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("TYPE")
    for status in STATUSES:
        table.add_column(status.value.upper(), justify="right")
    for job_type, counts in sorted(stats.by_type.items()):
        table.add_row(job_type, *(str(getattr(counts, status.value)) for status in STATUSES))
    table.add_row("total", *(str(stats.count(status)) for status in STATUSES), style="bold")
    console.print(table)
    oldest = stats.oldest_pending_age
    console.print(f"oldest pending job waiting: {'-' if oldest is None else span(oldest)}")
    console.print(f"finished in the last minute: {stats.finished_last_minute}")


class PruneProgress:
    """A live "deleted N jobs" counter on stderr while pruning, when stderr is a terminal.

    Use :meth:`update` as the prune progress callback (called on the event-loop thread
    with the cumulative count).
    """

    def __init__(self) -> None:
        console = Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("pruning: {task.completed:,} jobs deleted"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task = self._progress.add_task("prune", total=None)

    def update(self, deleted: int) -> None:
        self._progress.update(self._task, completed=deleted)

    def __enter__(self) -> PruneProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()
