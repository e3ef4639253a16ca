"""The dashboard at ``/``: pages rendered on the server (Jinja2, autoescaped), a small
ES module for live updates over ``/api/v1/events``, and static files from this package.
No build step and nothing fetched from elsewhere.

Pages: queue (live), history (filters, bulk retry), job detail (payload, attempts and
errors, the chain as a tree, retry and cancel), charts, and placeholders for the library,
players and mappings pages, which appear when their data exists (see ``render.NAV``).
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
    from relayarr.web.dashboard import history, jobpage, login, pages

    state = DashboardState()
    app.state.dashboard = state
    ctx.events.add_listener(state.timeline.on_event)
    for module in (login, pages, history, jobpage):
        app.include_router(module.router)
    app.mount(
        "/static",
        StaticFiles(packages=[("relayarr.web.dashboard", "static")]),
        name="dashboard-static",
    )
    app.add_middleware(PageHeaders)
    return state


__all__ = ["DashboardState", "install"]
