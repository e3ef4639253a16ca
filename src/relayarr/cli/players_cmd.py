"""``relayarr players test``: check every configured player and print what was found."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from relayarr.cli.base import JsonFlag, app, run, state
from relayarr.cli.output import emit_json
from relayarr.players.report import PlayerReport, check_players
from relayarr.players.roster import Roster
from relayarr.players.wiring import library_roots, to_player_for

players_app = typer.Typer(
    help="Check the configured media players.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(players_app, name="players")


@players_app.command("test")
def check(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Reach every player, log in, and read its version and libraries (Kodi sources, Plex
    sections, Jellyfin/Emby library folders); with a `[library]` section, also check that
    each library root maps into one of them. Exits 1 when any player fails.
    """
    settings = state(ctx).settings()
    roots = library_roots(settings)

    async def body() -> list[PlayerReport]:
        roster = Roster(settings.players, settings.groups, to_player_for)
        try:
            return await check_players(roster, roots)
        finally:
            await roster.aclose()

    reports = run(body()) if settings.players else []
    if as_json:
        emit_json({"players": [report.to_json() for report in reports]})
    else:
        print_reports(reports, with_roots=roots is not None)
    if any(not report.ok for report in reports):
        raise typer.Exit(1)


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def print_reports(reports: list[PlayerReport], *, with_roots: bool) -> None:
    """One row per player; libraries one per line; the error, if any, under the table."""
    console = Console(highlight=False)
    if not reports:
        console.print("no players configured ([[players]] in the config file)")
        return
    table = Table(header_style="bold", show_lines=True)
    columns = ["PLAYER", "TYPE", "GROUP", "REACHABLE", "LOGIN", "VERSION", "LIBRARIES"]
    for column in [*columns, *(["ROOTS"] if with_roots else []), "RESULT"]:
        table.add_column(column, overflow="fold")
    for report in reports:
        libraries = "\n".join(
            f"{lib.name}: {', '.join(lib.paths) or '(no folders)'}" for lib in report.libraries
        )
        row = [
            report.name,
            report.type,
            report.group,
            _yes_no(report.reachable),
            _yes_no(report.authenticated),
            report.version or "-",
            libraries or "-",
        ]
        if with_roots:
            row.append(
                "\n".join(
                    f"{'ok' if r.ok else 'NO'} {r.root}: {r.message}" for r in report.roots or ()
                )
                or "-"
            )
        row.append("ok" if report.ok else "FAILED")
        table.add_row(*row)
    console.print(table)
    for report in reports:
        if report.error:
            console.print(report.error, soft_wrap=True)
