"""Security headers on every dashboard answer (pages, static files, redirects, errors).

A pure ASGI layer that leaves ``/api/`` and ``/metrics`` alone: those answer API clients,
and the webhook path is kept as short as it is.

The Content-Security-Policy allows nothing inline (no script, no style attribute), so an
injected tag can neither run nor restyle the page; scripts, styles and images come from
this origin only, and the page may connect back to it over HTTP or WebSocket.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A Host header we may repeat in the policy: a name or address and an optional port.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def is_page_path(path: str) -> bool:
    """True for the dashboard's paths: everything but the API and the metrics."""
    return not (path.startswith("/api/") or path == "/api" or path == "/metrics")


def content_security_policy(host: str | None) -> str:
    """The policy for a page served at ``host`` (the WebSocket URL is named explicitly,
    as some browsers do not count ws: as 'self')."""
    connect = "'self'"
    if host is not None and _HOST.match(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class PageHeaders:
    """Adds the headers below to dashboard answers that do not set them already."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        host: str | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
                break
        extra = [
            (b"content-security-policy", content_security_policy(host).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000"))
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                if not is_static and b"cache-control" not in present:
                    # Pages carry the session's CSRF token and live data.
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


__all__ = ["PageHeaders", "content_security_policy", "is_page_path"]
