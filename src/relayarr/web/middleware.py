"""Two pure-ASGI layers around every HTTP request: the body limit and the access log.

Pure ASGI (no BaseHTTPMiddleware) because they sit on the webhook's hot path: together
they cost a few microseconds.
"""

from __future__ import annotations

import logging
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("relayarr.web.access")

SERVICE = "web"


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before reading them when
    ``Content-Length`` says so, else as soon as the streamed bytes pass the limit.

    Raises :class:`HTTPException` (413) from ``receive`` in the second case, so whatever
    reads the body stops at once and the error mapping answers.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1  # the HTTP parser refuses these; be safe anyway
                if declared > limit:
                    # Let the routed app raise, so the answer is mapped in one place.
                    receive = _refuse(limit)
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


def too_large(limit: int) -> HTTPException:
    """The 413 raised for a body over ``limit`` bytes."""
    return HTTPException(413, f"request body is larger than {limit} bytes")


def _refuse(limit: int) -> Receive:
    async def receive() -> Message:
        raise too_large(limit)

    return receive


class AccessLog:
    """One log line per request: method, route, status, duration_ms, plus whatever the
    route put in ``request.state.log`` (job_id, source...). Never the query string: it may
    hold the API key. Refusals and failures log at INFO, successes at DEBUG. (Webhooks,
    served by :mod:`relayarr.web.intake` before this middleware, log their line there, at
    INFO whatever the outcome: one line per webhook, with its source, event and job id.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})["log"] = {}
        status = 500  # what the client gets if the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            level = logging.INFO if status >= 400 else logging.DEBUG
            route = scope.get("route")
            log_answer(level, scope, route.path if route else scope["path"], status, started)


def log_answer(level: int, scope: Scope, route: str, status: int, started: float) -> None:
    """The access log line of one answered request, with the context the route put in
    ``scope["state"]["log"]``; ``started`` is the request's :func:`time.perf_counter`."""
    if logger.isEnabledFor(level):
        logger.log(
            level,
            "request answered",
            extra={
                "service": SERVICE,
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                **scope["state"]["log"],
            },
        )


__all__ = ["AccessLog", "BodyLimit", "log_answer", "too_large"]
