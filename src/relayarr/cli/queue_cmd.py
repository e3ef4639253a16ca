"""``relayarr queue move --from URL --to URL``: copy a queue to another engine.

Pending jobs and history are copied page by page (newest first) under their own ids, with
their status, payload, attempts, result and timestamps, through the target engine's
:class:`~relayarr.jobqueue.storage.JobImport`. Re-running is harmless: ids already on the
target are skipped. The source is left as it was; the copy is refused while workers are
active on it (a processing job, or a lease owner), since their work would be lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from relayarr.app import open_queue_storage
from relayarr.cli.base import app, run
from relayarr.errors import MoveRefused
from relayarr.jobqueue import JobQuery, JobQueueError, JobStatus
from relayarr.jobqueue.storage import JobImport, StorageEngine

queue_app = typer.Typer(
    help="Whole-queue operations: move a queue to another engine.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(queue_app, name="queue")

PAGE = 500
MOVED_STATUSES = (
    JobStatus.PENDING,
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


@dataclass(frozen=True, slots=True)
class MoveReport:
    """How many jobs were read from the source and how many the target newly stored."""

    read: int
    stored: int


async def check_idle(source: StorageEngine) -> None:
    """Raise MoveRefused while workers are active on ``source``."""
    busy = await source.list(JobQuery(statuses=[JobStatus.PROCESSING], limit=1))
    owners = await source.lease_owners()
    if busy.jobs or owners:
        who = f" (lease owners: {', '.join(sorted(owners))})" if owners else ""
        raise MoveRefused(
            f"workers are active on {source.where}: job {busy.jobs[0].id if busy.jobs else '?'} "
            f"is processing{who}; stop every worker on it and run the move again"
        )


async def count_movable(source: StorageEngine) -> int:
    """Pending and finished jobs on ``source`` (the progress bar's total)."""
    stats = await source.stats()
    return sum(t.pending + t.completed + t.failed + t.cancelled for t in stats.by_type.values())


async def move_jobs(
    source: StorageEngine, target: StorageEngine, advance: Callable[[int], None] | None = None
) -> MoveReport:
    """Copy every pending and finished job of ``source`` to ``target`` under its own id.

    Refuses (MoveRefused) while workers are active on the source. ``advance(n)`` is called
    after each page with the number of jobs read.
    """
    if not isinstance(target, JobImport):
        raise JobQueueError(f"the {target.capabilities.engine} engine cannot receive moved jobs")
    await check_idle(source)
    read = stored = 0
    cursor = None
    while True:
        page = await source.list(JobQuery(statuses=MOVED_STATUSES, before_id=cursor, limit=PAGE))
        if page.jobs:
            stored += await target.import_jobs(page.jobs)
            read += len(page.jobs)
            if advance is not None:
                advance(len(page.jobs))
        if page.next_cursor is None:
            return MoveReport(read=read, stored=stored)
        cursor = page.next_cursor


@queue_app.command("move")
def queue_move(
    from_url: Annotated[
        str, typer.Option("--from", metavar="URL", help="The queue to copy from (left as is).")
    ],
    to_url: Annotated[
        str, typer.Option("--to", metavar="URL", help="The queue to copy to (created if new).")
    ],
) -> None:
    """Copy pending jobs and history to another engine, ids kept; safe to re-run."""
    console = Console(stderr=True)

    async def body() -> tuple[MoveReport, str, str]:
        source = await open_queue_storage(from_url, create=False)
        try:
            target = await open_queue_storage(to_url, create=True)
            try:
                await check_idle(source)
                total = await count_movable(source)
                with Progress(
                    TextColumn("moving jobs"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                    disable=not console.is_terminal,
                ) as progress:
                    task = progress.add_task("move", total=total)
                    report = await move_jobs(source, target, lambda n: progress.advance(task, n))
                    return report, source.where, target.where
            finally:
                await target.aclose()
        finally:
            await source.aclose()

    report, source_where, target_where = run(body())
    skipped = report.read - report.stored
    typer.echo(
        f"moved {report.stored} jobs from {source_where} to {target_where} "
        f"({skipped} already there)"
    )
