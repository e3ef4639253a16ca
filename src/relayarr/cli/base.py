"""What every command shares: the Typer apps, global options, settings, storage sessions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from relayarr.app import build_queue, configure_logging, open_queue_storage
from relayarr.config import Settings, load_settings
from relayarr.jobqueue import JobQueue, StorageEngine

T = TypeVar("T")


@dataclass
class CliState:
    """The global options, turned into Settings on first use (so ``--help`` never needs them)."""

    config_file: Path | None
    queue_url: str | None
    verbose: bool
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self, *, service: bool = False) -> Settings:
        """Load the settings and set up logging: a service logs at ``log.level``; one-shot
        commands only warnings and errors, unless ``--verbose``."""
        if self._settings is None:
            overrides = {"queue": {"url": self.queue_url}} if self.queue_url else None
            self._settings = load_settings(self.config_file, overrides=overrides)
            level = None if service or self.verbose else logging.WARNING
            configure_logging(self._settings.log, level=level)
        return self._settings


app = typer.Typer(
    name="relayarr",
    help="Durable webhook relay from Radarr/Sonarr to media players.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
jobs_app = typer.Typer(
    help="List, inspect, retry, cancel and prune jobs.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(jobs_app, name="jobs")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]
ImportOption = Annotated[
    list[str] | None,
    typer.Option(
        "--import",
        "-i",
        metavar="MODULE[:FUNCTION]",
        help="Call FUNCTION(queue) (default: MODULE.register) to register job handlers; "
        "repeatable. The current directory is importable.",
    ),
]


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="RELAYARR_CONFIG",
            metavar="FILE",
            help="TOML config file; every key can be overridden by RELAYARR_* variables.",
        ),
    ] = None,
    queue_url: Annotated[
        str | None,
        typer.Option(
            "--queue-url",
            metavar="URL",
            help="Queue database URL, e.g. sqlite:///data/queue.db (overrides config and "
            "RELAYARR_QUEUE_URL).",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log at log.level, not just warnings.")
    ] = False,
) -> None:
    ctx.obj = CliState(config, queue_url, verbose)


def state(ctx: typer.Context) -> CliState:
    """The global options of this invocation (set by the root callback)."""
    found = ctx.find_object(CliState)
    assert found is not None, "the root callback always sets it"
    return found


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one command's async body to completion on a fresh event loop."""
    return asyncio.run(coroutine)


async def with_storage(
    settings: Settings, body: Callable[[StorageEngine], Awaitable[T]], *, create: bool = False
) -> T:
    """Open the queue's storage (see :func:`open_queue_storage`), run ``body``, close it."""
    storage = await open_queue_storage(settings.queue_url, create=create)
    try:
        return await body(storage)
    finally:
        await storage.aclose()


async def with_queue(
    settings: Settings, body: Callable[[JobQueue], Awaitable[T]], *, strict_types: bool = True
) -> T:
    """Like :func:`with_storage`, with a JobQueue built on it by :func:`build_queue`."""

    async def on_storage(storage: StorageEngine) -> T:
        return await body(build_queue(settings, storage, strict_types=strict_types))

    return await with_storage(settings, on_storage)
