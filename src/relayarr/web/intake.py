"""The webhook intake: ``POST|PUT /api/v1/webhooks/{source}[/{instance}]`` served straight
off the ASGI scope, ahead of FastAPI's middleware and routing.

Why: the eight middleware layers, the router and the request objects FastAPI and
Starlette put around a request cost half as much again as a webhook's own work (check the
key, parse the body, store the job), on the one route that must keep up with bursts. The
app (:class:`relayarr.web.app.RelayarrApp`) hands these requests here before any of that
runs; everything else, including other methods and other shapes of these paths (trailing
slash, extra segments), goes to FastAPI unchanged.

Same behaviour as a route inside the app, from the same pieces: the API key check
(:func:`relayarr.web.auth.require`), the body limit (413 by ``Content-Length`` before
reading, else while reading), :func:`relayarr.web.routes.webhooks.accept` for the rest,
the error answers of :mod:`relayarr.web.errors` and the access log line. What it skips is
FastAPI's built-in OpenTelemetry instrumentation: webhooks are measured by relayarr's own
metrics (``relayarr_webhook_*``). The operations are documented in OpenAPI by the
FastAPI routes of :mod:`relayarr.web.routes.webhooks`.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send

from relayarr.web import errors
from relayarr.web.auth import require
from relayarr.web.context import WebContext
from relayarr.web.middleware import log_answer, too_large
from relayarr.web.routes.webhooks import METHODS, PREFIX, accept, path_params

_PATH = re.compile(re.escape(PREFIX) + r"/([^/]+)(?:/([^/]+))?")
_ROUTE = f"{PREFIX}/{{source}}"
_ROUTE_INSTANCE = f"{PREFIX}/{{source}}/{{instance}}"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class WebhookIntake:
    """Serves webhook requests for the app whose :class:`WebContext` it is given."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    @staticmethod
    def match(scope: Scope) -> re.Match[str] | None:
        """The path's match when ``scope`` is a webhook request this intake serves."""
        if scope["type"] != "http" or scope["method"] not in METHODS:
            return None
        return _PATH.fullmatch(scope["path"])

    async def serve(self, scope: Scope, receive: Receive, send: Send, path: re.Match[str]) -> None:
        """Answer one webhook request (``scope["app"]`` must be the app, for the error
        handlers); logs one access line at INFO whatever the outcome."""
        started = time.perf_counter()
        log: dict[str, object] = {}
        scope.setdefault("state", {})["log"] = log
        status = 500
        answered = False
        try:
            source, instance = path[1], path[2]
            headers = _read_headers(scope["headers"])
            query = QueryParams(scope["query_string"]) if scope["query_string"] else _NO_QUERY
            require(self.ctx.api_key, headers, query)
            checked, instance = path_params(source, instance)
            raw = await self._body(receive, headers.get("content-length"))
            status, answer = await accept(self.ctx, checked, instance, raw, log)
            answered = True
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [*_JSON_HEADERS, (b"content-length", b"%d" % len(answer))],
                }
            )
            await send({"type": "http.response.body", "body": answer})
        except Exception as exc:
            if answered:
                raise  # the answer was on its way when sending failed: nothing to add
            response = await errors.answer(Request(scope, receive), exc)
            status = response.status_code
            await response(scope, receive, send)
        finally:
            route = _ROUTE if path[2] is None else _ROUTE_INSTANCE
            log_answer(logging.INFO, scope, route, status, started)

    async def _body(self, receive: Receive, declared: str | None) -> bytes:
        """The request body, refused (413) past ``max_body_bytes``: by Content-Length
        (``declared``) before reading anything, else as soon as the bytes received pass it."""
        limit = self.ctx.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _read_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers the intake reads, first value of each, decoded as Starlette's
    ``Headers`` would (one pass; a missing header costs nothing)."""
    found: dict[str, str] = {}
    for name, value in raw:
        if name in _READ and (key := name.decode("latin-1")) not in found:
            found[key] = value.decode("latin-1")
    return found


_READ = frozenset({b"x-api-key", b"authorization", b"content-length"})
_NO_QUERY: dict[str, str] = {}

__all__ = ["WebhookIntake"]
