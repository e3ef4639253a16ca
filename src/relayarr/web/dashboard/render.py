"""Rendering a dashboard page: the layout's navigation, the session's token and message."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse

from relayarr.web.dashboard.session import Session
from relayarr.web.dashboard.state import DashboardState, dashboard_state


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the navigation; ``ready`` is False for pages whose data does not
    exist yet (they show a placeholder saying what they wait for)."""

    key: str
    title: str
    path: str
    ready: bool = True


NAV = (
    NavItem("queue", "Queue", "/"),
    NavItem("history", "History", "/history"),
    NavItem("charts", "Charts", "/charts"),
    NavItem("library", "Library", "/library"),
    NavItem("players", "Players", "/players"),
    NavItem("mappings", "Mappings", "/mappings"),
)


def state_of(request: Request) -> DashboardState:
    state = dashboard_state(request)
    if state is None:  # pragma: no cover - the routes are mounted with their state
        raise RuntimeError("the dashboard is not installed on this app")
    return state


def render(
    request: Request,
    template: str,
    *,
    session: Session | None,
    active: str = "",
    status_code: int = 200,
    **values: object,
) -> HTMLResponse:
    """The page ``template`` with the layout's values; every value is escaped."""
    env = state_of(request).templates
    html = env.get_template(template).render(
        nav=NAV,
        active=active,
        session=session,
        csrf=session.csrf if session is not None else "",
        flash=session.pop_flash() if session is not None else None,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)


__all__ = ["NAV", "NavItem", "render", "state_of"]
