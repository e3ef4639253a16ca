"""Who may see the dashboard: a live session, and on every POST its CSRF token.

Pages depend on :data:`RequireSession`; forms on :data:`RequireCsrf`, which reads the
token from the form field ``csrf`` or the ``X-CSRF-Token`` header (the page's script).
The event WebSocket accepts a session too (:func:`websocket_session`), but only from a
page of this same origin: browsers send cookies with cross-site WebSocket handshakes
that SameSite does not always stop, and the Origin header is what they cannot forge.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from relayarr.errors import CsrfRefused, LoginRequired
from relayarr.web.dashboard.session import COOKIE, Session
from relayarr.web.dashboard.state import dashboard_state

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def session_of(connection: HTTPConnection) -> Session | None:
    """The live session the connection's cookie names, or None."""
    state = dashboard_state(connection)
    if state is None:
        return None
    return state.sessions.get(connection.cookies.get(COOKIE))


async def require_session(request: Request) -> Session:
    """FastAPI dependency: the request's session, else :class:`LoginRequired`."""
    session = session_of(request)
    if session is None:
        raise LoginRequired("log in to see the dashboard")
    return session


async def require_csrf(request: Request) -> Session:
    """FastAPI dependency for POSTs: the session, and its CSRF token in the form or header;
    else :class:`CsrfRefused` (nothing is done)."""
    session = session_of(request)
    if session is None:
        raise CsrfRefused("no session: log in again")
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not session.csrf_ok(presented):
        raise CsrfRefused("the form's security token is missing or stale: reload the page")
    return session


def same_origin(connection: HTTPConnection) -> bool:
    """True when the Origin header names the host the request was sent to."""
    origin = connection.headers.get("origin")
    host = connection.headers.get("host")
    if not origin or not host:
        return False
    scheme = "https" if connection.url.scheme in ("https", "wss") else "http"
    return origin == f"{scheme}://{host}"


def websocket_session(websocket: WebSocket) -> Session | None:
    """The session of a WebSocket opened by a dashboard page of this origin, or None."""
    if not same_origin(websocket):
        return None
    return session_of(websocket)


RequireSession = Annotated[Session, Depends(require_session)]
RequireCsrf = Annotated[Session, Depends(require_csrf)]

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "RequireCsrf",
    "RequireSession",
    "require_csrf",
    "require_session",
    "same_origin",
    "session_of",
    "websocket_session",
]
