"""``relayarr serve``: the HTTP service and the workers in one process."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from relayarr.app import import_setups
from relayarr.cli.base import ImportOption, app, state


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed (it comes with uvicorn[standard]), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: server.host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default: server.port, 7878)."),
    ] = None,
    workers: Annotated[
        bool,
        typer.Option(
            "--workers/--no-workers",
            help="Run job handlers in this process too; --no-workers serves HTTP only "
            "(run `relayarr worker` elsewhere).",
        ),
    ] = True,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Jobs run at a time (default: queue.concurrency, 4)."),
    ] = None,
    imports: ImportOption = None,
) -> None:
    """Serve webhooks, the API, live events and metrics, and run the workers.

    The first run without a configured key (server.api_key, RELAYARR_API_KEY) generates
    one, keeps it in <data_dir>/api_key and prints it once. SIGTERM or SIGINT stops
    gracefully: no new requests, in-flight ones finish, then running jobs for up to
    queue.stop_timeout seconds. Creates and migrates the database if needed.
    """
    # Imported here: the web stack takes a while to import, and other commands need none.
    from relayarr.web.apikey import first_run_notice, resolve_api_key
    from relayarr.web.server import ServeOptions
    from relayarr.web.server import serve as run_server

    settings = state(ctx).settings(service=True)
    setups = import_setups(imports or [])
    key = resolve_api_key(settings)
    options = ServeOptions(
        host=host or settings.server.host,
        port=port or settings.server.port,
        workers=workers,
        concurrency=concurrency or settings.queue.concurrency,
        api_key=key.value,
    )

    def on_listening(base_url: str) -> None:
        if key.generated:
            sys.stdout.write(first_run_notice(key, base_url))
            sys.stdout.flush()

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(run_server(settings, options, setups=setups, on_listening=on_listening))
