"""Logging in with the API key, and out.

The key travels once, in a POST body; what the browser keeps is a session cookie
(HttpOnly, SameSite=Strict, Secure over https). The login form carries its own CSRF token
(double submit: a cookie and a hidden field that must match), so another site cannot log
a browser in to this one behind its back.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from relayarr.errors import CsrfRefused
from relayarr.web.context import connection_context
from relayarr.web.dashboard.guard import RequireCsrf, session_of
from relayarr.web.dashboard.render import render, state_of
from relayarr.web.dashboard.session import COOKIE, LOGIN_COOKIE

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site."""
    if (
        not target
        or len(target) > 500
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ch in target for ch in "\r\n\\")
    ):
        return "/"
    return target


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def _login_page(request: Request, next_path: str, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        session=None,
        next_path=next_path,
        login_token=token,
        error=error,
    )
    _set_cookie(request, response, LOGIN_COOKIE, token)
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if session_of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    api_key: Annotated[str, Form(max_length=1000)] = "",
    login_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), login_token.encode()):
        raise CsrfRefused("the login form expired: load it again")
    key = connection_context(request).api_key
    if not hmac.compare_digest(api_key.encode("utf-8", "surrogateescape"), key):
        logger.warning(
            "dashboard login refused: wrong API key",
            extra={"service": "web", "operation": "login"},
        )
        # The form again with its message, as a 200: a 4xx document is a console error
        # in browsers, and 401 would call for an HTTP authentication challenge.
        return _login_page(request, safe_next(next), "That is not the API key.")
    token, _ = state_of(request).sessions.create()
    logger.info("dashboard login", extra={"service": "web", "operation": "login"})
    response = RedirectResponse(safe_next(next), status_code=303)
    _set_cookie(request, response, COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, _: RequireCsrf) -> Response:
    state_of(request).sessions.drop(request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


__all__ = ["router", "safe_next"]
