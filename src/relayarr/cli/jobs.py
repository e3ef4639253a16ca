"""``relayarr jobs list|show|retry|cancel|prune`` and ``relayarr stats``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated

import typer

from relayarr.cli import output
from relayarr.cli.base import JsonFlag, app, jobs_app, run, state, with_queue
from relayarr.errors import DurationError, InputError
from relayarr.jobqueue import Job, JobId, JobQuery, JobQueue, JobStatus


class FinishedStatus(StrEnum):
    """The statuses of history, the only jobs prune deletes."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@jobs_app.command("list")
def jobs_list(
    ctx: typer.Context,
    status: Annotated[
        list[JobStatus] | None,
        typer.Option("--status", "-s", case_sensitive=False, help="Only these; repeatable."),
    ] = None,
    job_type: Annotated[
        list[str] | None, typer.Option("--type", "-t", help="Only these types; repeatable.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Jobs per page.")] = 50,
    cursor: Annotated[
        int | None,
        typer.Option(min=1, metavar="ID", help="Only jobs older than ID (the next cursor)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List jobs, newest first, one page at a time (active and history together)."""
    settings = state(ctx).settings()
    query = JobQuery(
        statuses=status or (),
        types=job_type or (),
        before_id=None if cursor is None else JobId(cursor),
        limit=limit,
    )

    async def body(queue: JobQueue) -> None:
        page = await queue.list_jobs(query)
        if as_json:
            output.emit_json(
                {
                    "jobs": [output.job_json(job) for job in page.jobs],
                    "next_cursor": page.next_cursor,
                }
            )
        else:
            output.jobs_table(page)

    run(with_queue(settings, body))


@jobs_app.command("show")
def jobs_show(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: JsonFlag = False,
) -> None:
    """Show everything about one job, active or finished."""
    settings = state(ctx).settings()

    async def body(queue: JobQueue) -> None:
        job = await queue.get_job(job_id)
        if as_json:
            output.emit_json(output.job_json(job))
        else:
            output.job_details(job)

    run(with_queue(settings, body))


@jobs_app.command("retry")
def jobs_retry(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: JsonFlag = False,
) -> None:
    """Run a failed or cancelled job again from scratch (attempts reset)."""
    _steer(ctx, as_json, lambda queue: queue.retry_job(job_id), "queued again ({status})")


@jobs_app.command("cancel")
def jobs_cancel(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: JsonFlag = False,
) -> None:
    """Cancel a pending or running job (a running handler stops at its next heartbeat)."""
    _steer(ctx, as_json, lambda queue: queue.cancel_job(job_id), "cancelled")


def _steer(
    ctx: typer.Context,
    as_json: bool,
    action: Callable[[JobQueue], Awaitable[Job]],
    done: str,
) -> None:
    """Apply ``action`` to the queue and show the job it returns (``done`` may name
    ``{status}``)."""
    settings = state(ctx).settings()

    async def body(queue: JobQueue) -> None:
        job = await action(queue)
        if as_json:
            output.emit_json(output.job_json(job))
        else:
            typer.echo(f"job {job.id} " + done.format(status=job.status))

    run(with_queue(settings, body))


@jobs_app.command("prune")
def jobs_prune(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION", help="Delete jobs finished longer ago than this: 7d, 12h, 30m."
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(min=0, metavar="N", help="Delete all but the newest N finished jobs."),
    ] = None,
    status: Annotated[
        list[FinishedStatus] | None,
        typer.Option(
            "--status", "-s", case_sensitive=False, help="Only these statuses; repeatable."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete finished jobs from history, in small batches; active jobs are never touched.

    Give --older-than, --keep or both (a job matching either goes).
    """
    settings = state(ctx).settings()
    if older_than is None and keep is None:
        raise InputError("prune needs --older-than DURATION and/or --keep N")
    seconds = None if older_than is None else _duration(older_than, "--older-than")
    statuses = [JobStatus(item.value) for item in status or ()]

    async def body(queue: JobQueue) -> None:
        with output.PruneProgress() as progress:
            deleted = await queue.prune(
                older_than=seconds, keep=keep, statuses=statuses, progress=progress.update
            )
        if as_json:
            output.emit_json({"deleted": deleted})
        else:
            typer.echo(f"pruned {deleted:,} finished job{'s' if deleted != 1 else ''}")

    run(with_queue(settings, body))


@app.command()
def stats(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Counts by type and status, the oldest pending job's wait, jobs finished last minute."""
    settings = state(ctx).settings()

    async def body(queue: JobQueue) -> None:
        snapshot = await queue.stats()
        if as_json:
            output.emit_json(output.stats_json(snapshot))
        else:
            output.stats_table(snapshot)

    run(with_queue(settings, body))


def _duration(text: str, option: str) -> float:
    try:
        return output.parse_duration(text)
    except DurationError as exc:
        raise InputError(f"{option}: {exc}") from None
