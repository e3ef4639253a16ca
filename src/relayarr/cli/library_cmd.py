"""``relayarr library lock|unlock``: keep fields of a movie or series from the providers.

A locked field keeps the value the NFO holds (or the one set through the API) through
every re-enrichment and upgrade; unlocking hands it back to the providers. Either way a
publish job follows (when ``[metadata]`` is configured), so the NFO on disk agrees.
"""

from __future__ import annotations

from typing import Annotated

import typer

from relayarr.app import build_queue, open_services
from relayarr.cli.base import JsonFlag, app, run, state, with_storage
from relayarr.cli.output import emit_json
from relayarr.errors import LibraryNotConfigured
from relayarr.jobqueue import StorageEngine
from relayarr.library.db.records import ItemKind
from relayarr.pipeline.edits import EditResult, ItemEdit, edit_item

library_app = typer.Typer(
    help="Lock and unlock fields of movies and series.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(library_app, name="library")

ItemIdArg = Annotated[int, typer.Argument(metavar="ID", min=1, help="The movie's (or series') id.")]
FieldsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="FIELD...", help="Field names (title, plot, genres...) or artwork types (poster)."
    ),
]
SeriesFlag = Annotated[bool, typer.Option("--series", help="ID is a series, not a movie.")]


@library_app.command("lock")
def lock(
    ctx: typer.Context,
    item_id: ItemIdArg,
    fields: FieldsArg,
    series: SeriesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Lock fields: providers never replace them again (the NFO's values are kept)."""
    _change(ctx, item_id, fields, series=series, locked=True, as_json=as_json)


@library_app.command("unlock")
def unlock(
    ctx: typer.Context,
    item_id: ItemIdArg,
    fields: FieldsArg,
    series: SeriesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Unlock fields: the next publish takes them from the providers again."""
    _change(ctx, item_id, fields, series=series, locked=False, as_json=as_json)


def _change(
    ctx: typer.Context,
    item_id: int,
    fields: list[str],
    *,
    series: bool,
    locked: bool,
    as_json: bool,
) -> None:
    settings = state(ctx).settings()
    kind = ItemKind.SERIES if series else ItemKind.MOVIE
    edit = ItemEdit(locks=dict.fromkeys(fields, locked))

    async def body(storage: StorageEngine) -> EditResult:
        async with open_services(settings) as services:
            if services.library is None:
                raise LibraryNotConfigured(
                    "no library is configured: add [[library.roots]] to the configuration"
                )
            queue = build_queue(settings, storage, services=services)
            return await edit_item(queue, services.library, services.metadata, kind, item_id, edit)

    result = run(with_storage(settings, body))
    if as_json:
        emit_json(result.to_json())
        return
    locks = ", ".join(sorted(result.state.locks.fields)) or "(none)"
    typer.echo(f"{kind.value} {item_id}: locked fields: {locks}")
    if result.publish_job is not None:
        typer.echo(f"publish job {result.publish_job} writes the NFO")
    else:
        typer.echo("no publish: [metadata] is not configured (the locks are kept)")
