"""The dashboard's own state, one per app: sessions, templates, the event timeline, the
last test of each player."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import HTTPConnection

from relayarr.web.dashboard.checks import PlayerChecks
from relayarr.web.dashboard.session import SessionStore
from relayarr.web.dashboard.timeline import Timeline


def template_environment() -> Environment:
    """Templates from the package, every value HTML-escaped unless a template says not."""
    env = Environment(
        loader=PackageLoader("relayarr.web.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from relayarr.web.dashboard import views  # the filters; views imports nothing of ours

    env.filters.update(views.FILTERS)
    return env


@dataclass(eq=False)
class DashboardState:
    """Everything the dashboard keeps between requests."""

    sessions: SessionStore = field(default_factory=SessionStore)
    templates: Environment = field(default_factory=template_environment)
    timeline: Timeline = field(default_factory=lambda: Timeline(time.time()))
    backfill_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    player_checks: PlayerChecks = field(default_factory=PlayerChecks)


def dashboard_state(connection: HTTPConnection) -> DashboardState | None:
    """The dashboard state of the app serving ``connection`` (None: no dashboard)."""
    found: DashboardState | None = getattr(connection.app.state, "dashboard", None)
    return found


__all__ = ["DashboardState", "dashboard_state", "template_environment"]
