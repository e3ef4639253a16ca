"""``relayarr scan PATH`` and ``relayarr scan --all``: scans asked for by hand.

``scan PATH`` queues a scan of the movie or series folder holding PATH, as
``POST /api/v1/scan`` does; ``scan --all`` queues a reconciliation of every library root
now. Either feeds the pipeline's chain (the scan, then what the players must learn),
run by the workers of ``relayarr serve`` or ``relayarr worker``. With ``--wait`` the
command follows the chain to its end (:mod:`relayarr.cli.follow`) and prints what each
job did; a failed job makes it exit with 1.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Annotated

import typer

from relayarr.app import build_queue, library_roots
from relayarr.cli.base import JsonFlag, app, run, state, with_storage
from relayarr.cli.follow import display_for, failures, follow_chain, label, lines
from relayarr.cli.output import age, emit_json, job_json
from relayarr.config import Settings
from relayarr.errors import WaitFailed
from relayarr.jobqueue import Job, JobQueue, JSONValue, StorageEngine
from relayarr.jobqueue.relay import EventRelay
from relayarr.library.roots import LibraryRoots
from relayarr.pipeline.chain import Node
from relayarr.pipeline.manual import (
    ScanTarget,
    add_manual_scan,
    reconcile_all,
    require_roots,
    scan_target,
)

DUE_SHOWN_AFTER = 1.0
"""Seconds ahead a job must be due for the confirmation to say when (a scan already
waiting for the folder, or the start-up reconciliation, may be due a little later)."""


@app.command()
def scan(
    ctx: typer.Context,
    path: Annotated[
        str | None,
        typer.Argument(
            metavar="PATH",
            help="A movie or series folder, or any file or folder in one, as relayarr sees it.",
            show_default=False,
        ),
    ] = None,
    all_roots: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Reconcile every library root now: scan what changed since the last scans.",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Follow the job and every job it sets off to the end, then print what each "
            "did; exit 1 if one failed.",
        ),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            metavar="SECONDS",
            help="With --wait: give up (exit 1) after this long. Default: wait to the end.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Scan the folder holding PATH now, or reconcile every root (--all).

    A scan already waiting for the same folder is the same job. Needs `[[library.roots]]`;
    a worker (`relayarr serve` or `relayarr worker`) runs the jobs.
    """
    if (path is None) == (not all_roots):
        raise typer.BadParameter("give a PATH to scan, or --all (not both)", param_hint="PATH")
    settings = state(ctx).settings()
    roots = require_roots(library_roots(settings))
    target = None
    if path is not None:
        target = scan_target(roots, os.path.abspath(os.path.expanduser(path)))

    async def body(storage: StorageEngine) -> None:
        await _scan(settings, storage, roots, target, wait=wait, limit=timeout, as_json=as_json)

    run(with_storage(settings, body))


async def _scan(
    settings: Settings,
    storage: StorageEngine,
    roots: LibraryRoots,
    target: ScanTarget | None,
    *,
    wait: bool,
    limit: float | None,
    as_json: bool,
) -> None:
    queue = build_queue(settings, storage, share_events=True)
    # Read before the job is added, so no progress of a quick job is missed.
    after = await EventRelay(storage).last_id() if wait else None
    document: dict[str, JSONValue]
    if target is None:
        job = await reconcile_all(queue, roots)
        document = {"job": job_json(job), "roots": [str(root.path) for root in roots.roots]}
        what = f"every library root ({len(roots.roots)})"
    else:
        manual = await add_manual_scan(queue, target)
        job = manual.job
        document = {"job": job_json(job), **manual.to_json()}
        what = str(target.folder)
    await queue.flush_events()
    if not as_json:
        later = (job.run_at - datetime.now(UTC)).total_seconds() > DUE_SHOWN_AFTER
        due = f", due {age(job.run_at)}" if later else ""
        typer.echo(f"queued {label(job)}: {what}{due}")
        if target is not None and target.unavailable is not None:
            typer.echo(
                f"note: library root {target.root.path} is unavailable ({target.unavailable} "
                "is missing): the scan waits until it is back"
            )
    if not wait:
        if as_json:
            emit_json(document)
        return
    tree = await _follow(queue, job, after, limit, quiet=as_json)
    failed = failures(tree)
    if as_json:
        document["chain"] = tree.to_json()
        document["outcome"] = "failed" if failed else "completed"
        emit_json(document)
    else:
        for depth, node_job, text in lines(tree, width=None):
            typer.echo(f"{'  ' * depth}{label(node_job) + ' ' if node_job else ''}{text}")
    if failed:
        first = failed[0]
        reason = f": {first.last_error}" if first.last_error else ""
        raise WaitFailed(f"{label(first)} {first.status.value}{reason}")


async def _follow(
    queue: JobQueue, job: Job, after: int | None, limit: float | None, *, quiet: bool
) -> Node:
    try:
        with display_for(quiet=quiet) as display:
            async with asyncio.timeout(limit):
                return await follow_chain(queue, job, display, after_event=after)
    except TimeoutError:
        raise WaitFailed(f"the chain of job {job.id} did not end within {limit:g} s") from None


__all__ = ["scan"]
