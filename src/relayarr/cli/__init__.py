"""The ``relayarr`` command: migrate, run workers, inspect and steer jobs.

Every command builds the settings once (``--config``/``RELAYARR_CONFIG``, ``RELAYARR_*``,
``--queue-url``) and gets storage and queue from :mod:`relayarr.app`. Expected failures
(bad input, bad config, a missing, locked or corrupt database...) are turned into one
``error: ...`` line on stderr and exit status 1 by :func:`main`, in one place; commands
never catch them. Usage errors exit with 2, as click does.

One module per group of commands; each registers itself on :data:`app` when imported.
"""

from __future__ import annotations

import typer

from relayarr.cli import (
    config_cmd,
    enqueue,
    jobs,
    library_cmd,
    players_cmd,
    queue_cmd,
    scan_cmd,
    serve,
    worker,
)
from relayarr.cli.base import app
from relayarr.errors import RelayarrError
from relayarr.jobqueue import JobQueueError

EXPECTED_ERRORS = (JobQueueError, RelayarrError)
"""What :func:`main` reports as one line; anything else is a bug and keeps its traceback."""


def _fail(message: str, code: int = 1) -> None:
    text = " ".join(message.split()) or "unknown error"  # one line, whatever the message
    typer.echo(f"error: {text}", err=True)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """The console script: run the command, report expected failures as one line."""
    try:
        app(args=argv, prog_name="relayarr")
    except EXPECTED_ERRORS as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", code=130)


__all__ = [
    "EXPECTED_ERRORS",
    "app",
    "config_cmd",
    "enqueue",
    "jobs",
    "library_cmd",
    "main",
    "players_cmd",
    "queue_cmd",
    "scan_cmd",
    "serve",
    "worker",
]
