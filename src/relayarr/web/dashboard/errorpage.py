"""Error answers for dashboard paths: a page for people instead of the API's JSON, and
the login page instead of a 401."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from relayarr.web.dashboard.guard import session_of
from relayarr.web.dashboard.headers import is_page_path
from relayarr.web.dashboard.render import render
from relayarr.web.dashboard.state import dashboard_state

TITLES = {
    400: "Bad request",
    401: "Log in first",
    403: "Refused",
    404: "Not found",
    405: "Not allowed",
    409: "Not possible now",
    413: "Too large",
    422: "Invalid request",
    503: "Storage unavailable",
}


def wants_page(request: Request) -> bool:
    """True when the error answers a dashboard path of an app with a dashboard."""
    return is_page_path(request.url.path) and dashboard_state(request) is not None


def error_page(request: Request, status: int, message: str) -> Response:
    """The error page (or, for 401, a redirect to the login page and back)."""
    if status == 401:
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    return render(
        request,
        "error.html",
        session=session_of(request),
        status_code=status,
        status=status,
        title=TITLES.get(status, "Error"),
        message=message,
    )


__all__ = ["error_page", "wants_page"]
