"""``relayarr enqueue``: add a job from the command line or a script."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from relayarr.app import build_queue, import_setups
from relayarr.cli.base import ImportOption, JsonFlag, app, run, state, with_storage
from relayarr.cli.output import emit_json, job_json
from relayarr.errors import InputError
from relayarr.jobqueue import JobSpec, StorageEngine
from relayarr.jobqueue.models import DEFAULT_PRIORITY


@app.command()
def enqueue(
    ctx: typer.Context,
    job_type: Annotated[str, typer.Argument(metavar="TYPE", help="Job type, e.g. scan-movie.")],
    payload: Annotated[
        str, typer.Option(metavar="JSON", help="Payload: a JSON object; '-' reads stdin.")
    ] = "{}",
    priority: Annotated[
        int, typer.Option(help="1 (most urgent) to 10.", show_default=True)
    ] = DEFAULT_PRIORITY,
    delay: Annotated[float, typer.Option(metavar="SECONDS", help="Run no sooner than this.")] = 0.0,
    unique_key: Annotated[
        str | None,
        typer.Option(help="At most one active job per key: an existing one is returned."),
    ] = None,
    debounce: Annotated[
        bool,
        typer.Option(
            "--debounce", help="With --unique-key: push the existing job's run time to this one's."
        ),
    ] = False,
    max_attempts: Annotated[
        int | None, typer.Option(help="Attempts before the job fails (default: 3).")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse TYPE unless a handler in this process (relayarr's own or --import) "
            "handles it. Off by default: the worker that runs it may live elsewhere.",
        ),
    ] = False,
    imports: ImportOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a job; a worker that handles TYPE runs it.

    By default any TYPE is accepted, since the worker that handles it may run elsewhere
    (even in another program using relayarr's queue); a job whose type nobody handles
    stays pending and shows in `relayarr stats`. Use --strict to guard against typos.
    """
    settings = state(ctx).settings()
    setups = import_setups(imports or [])
    data = _parse_payload(sys.stdin.read() if payload == "-" else payload)

    async def body(storage: StorageEngine) -> None:
        queue = build_queue(settings, storage, setups=setups, strict_types=strict)
        spec = JobSpec(
            job_type,
            data,
            priority=priority,
            delay=delay,
            unique_key=unique_key,
            debounce=debounce,
            max_attempts=max_attempts,
        )
        added = await queue.add(spec)
        job, created = added.job, added.created
        if as_json:
            emit_json({**job_json(job), "created": created})
        elif created:
            typer.echo(f"job {job.id} added: {job.type}, {job.status}, priority {job.priority}")
        else:
            typer.echo(f"job {job.id} already holds unique key {unique_key!r} ({job.status})")

    run(with_storage(settings, body))


def _parse_payload(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--payload is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InputError(f"--payload must be a JSON object ({{...}}), not {type(value).__name__}")
    return value
