"""The dashboard at ``/``: pages rendered on the server (Jinja2, autoescaped), a small
ES module for live updates over ``/api/v1/events``, and static files from this package.
No build step and nothing fetched from elsewhere.

Pages: queue (live), history (filters, bulk retry), job detail (payload, attempts and
errors, the chain as a tree, retry and cancel), charts, the library (recent imports with
posters, each item's files, assets, locks and jobs), the players (health and a test
button) and the path mappings (rules, roots, "try a path"). A page whose part is not
configured says what to add to the configuration.
People log in with the API key once (:mod:`.login`); every POST carries a CSRF token
(:mod:`.guard`); every answer carries a strict Content-Security-Policy (:mod:`.headers`).

>>> install(app, ctx)  # doctest: +SKIP  (create_app does this)
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from relayarr.web.context import WebContext
from relayarr.web.dashboard.headers import PageHeaders
from relayarr.web.dashboard.state import DashboardState


def install(app: FastAPI, ctx: WebContext) -> DashboardState:
    """Mount the dashboard on ``app``; its timeline counts the events of ``ctx``'s feed."""
    from relayarr.web.dashboard import (
        artwork,
        history,
        jobpage,
        library_page,
        login,
        mappings_page,
        pages,
        players_page,
    )

    state = DashboardState()
    app.state.dashboard = state
    ctx.events.add_listener(state.timeline.on_event)
    for module in (
        login,
        pages,
        history,
        jobpage,
        library_page,
        artwork,
        players_page,
        mappings_page,
    ):
        app.include_router(module.router)
    app.mount(
        "/static",
        StaticFiles(packages=[("relayarr.web.dashboard", "static")]),
        name="dashboard-static",
    )
    app.add_middleware(PageHeaders)
    return state


__all__ = ["DashboardState", "install"]
