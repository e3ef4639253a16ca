"""``relayarr migrate`` and ``relayarr worker``: the schema, and running handlers."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from typing import Annotated

import typer

from relayarr.app import HandlerSetup, Services, build_queue, import_setups, open_services
from relayarr.cli.base import ImportOption, JsonFlag, app, run, state, with_storage
from relayarr.cli.output import emit_json
from relayarr.config import Settings
from relayarr.jobqueue import StorageEngine
from relayarr.library.db.engine import shown
from relayarr.library.db.migrate import migrate as migrate_library
from relayarr.pipeline import schedule_reconcile, schedule_retention

logger = logging.getLogger(__name__)


@app.command()
def migrate(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Create the queue and library databases, or upgrade their schemas; safe to run again."""
    settings = state(ctx).settings()

    async def body(storage: StorageEngine) -> None:
        engine, where = storage.capabilities.engine, storage.where
        library = await migrate_library(settings.library_database_url)
        where_library = shown(settings.library_database_url)
        if as_json:
            emit_json(
                {
                    "engine": engine,
                    "where": where,
                    "schema": "up to date",
                    "library": {"where": where_library, "revision": library.after},
                }
            )
        else:
            typer.echo(f"schema up to date: {engine} database at {where}")
            typer.echo(f"library schema up to date: {where_library} (revision {library.after})")

    run(with_storage(settings, body, create=True))


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Jobs run at a time (default: queue.concurrency, 4)."),
    ] = None,
    imports: ImportOption = None,
) -> None:
    """Run job handlers until SIGINT or SIGTERM, then stop gracefully.

    On a stop signal the worker claims nothing more, lets running jobs finish for up to
    queue.stop_timeout seconds and puts the rest back as pending. Creates and migrates
    the database if needed. Handlers come from relayarr and from --import modules.
    """
    settings = state(ctx).settings(service=True)
    setups = import_setups(imports or [])
    run(_run_worker(settings, setups, concurrency or settings.queue.concurrency))


async def _run_worker(settings: Settings, setups: list[HandlerSetup], concurrency: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if stop.is_set():
            logger.warning(
                "already stopping; waiting for running jobs", extra={"signal": signum.name}
            )
            return
        logger.info("stop requested", extra={"signal": signum.name})
        stop.set()

    async def body(storage: StorageEngine) -> None:
        async with open_services(settings, create=True) as services:
            await _work(storage, services)

    async def _work(storage: StorageEngine, services: Services) -> None:
        queue = build_queue(settings, storage, setups=setups, services=services, share_events=True)
        types = queue.handled_types()
        if not types:
            logger.warning("no job handlers registered: jobs stay pending (see --import)")
        logger.info(
            "worker starting",
            extra={
                "queue": storage.where,
                "concurrency": concurrency,
                "types": ",".join(sorted(types)),
                "owner": queue.owner,
            },
        )
        await queue.start(concurrency=concurrency)
        if services.library is not None:
            await schedule_reconcile(queue, services.library)
        await schedule_retention(queue, settings.queue.history_days)
        # What start-up built lives as long as the process: keep it out of the collector's
        # sight, so full collections walk only what jobs made (as `relayarr serve` does).
        gc.freeze()
        try:
            await stop.wait()
        finally:
            await queue.stop(timeout=settings.queue.stop_timeout)
        logger.info("shutdown complete")

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await with_storage(settings, body, create=True)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
