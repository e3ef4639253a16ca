"""``relayarr config init|check``: write a commented default file, validate one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from relayarr.cli.base import JsonFlag, app, state
from relayarr.cli.output import emit_json
from relayarr.config import default_config_toml, load_settings
from relayarr.errors import InputError

DEFAULT_PATH = Path("relayarr.toml")

config_app = typer.Typer(
    help="Write a default config file, or check one.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(config_app, name="config")


@config_app.command("init")
def init(
    path: Annotated[
        Path, typer.Argument(metavar="[PATH]", help="Where to write it.", show_default=True)
    ] = DEFAULT_PATH,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a TOML file listing every setting, commented out at its default."""
    text = default_config_toml()
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)  # it may come to hold the API key
    except FileExistsError:
        raise InputError(f"{path} exists; use --force to overwrite it") from None
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    typer.echo(f"wrote {path}; check it with: relayarr config check {path}")


@config_app.command("check")
def check(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="[PATH]", help="File to check (default: --config, RELAYARR_CONFIG)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate a config file together with the RELAYARR_* variables; name any bad key.

    Exits 1 with `error: FILE: section.key: reason` when something is wrong.
    """
    chosen = path if path is not None else state(ctx).config_file
    settings = load_settings(chosen)
    where = str(chosen) if chosen is not None else "defaults and environment"
    if as_json:
        emit_json(
            {"ok": True, "file": str(chosen) if chosen else None, "queue_url": settings.queue_url}
        )
    else:
        typer.echo(f"config ok: {where} (queue: {settings.queue_url})")
