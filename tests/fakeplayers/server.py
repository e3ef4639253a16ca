"""A real HTTP server on a loopback port that plays a media server, and records every request.

Jellyfin, Emby and Plex cannot be installed here, so the tests talk to these instead, over
real sockets (uvicorn in the test's event loop), and the fakes answer with the servers'
real shapes. Every fake can also misbehave on demand, the way real servers do:

* ``fail_next(status)``: the next answers are that status (a 500, a 503...);
* ``garbage_next()``: the next answers are 200 with a body that is not JSON;
* ``delay``: every answer waits that long first (a slow or hung server);
* ``stop()``: the port is closed (a server that is down).

Tests assert the exact requests sent (:attr:`FakeServer.requests`: method, path, query,
headers, body) and the most requests that were ever in flight at once
(:attr:`FakeServer.max_in_flight`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it (header names lowercased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class _Faults:
    statuses: list[int] = field(default_factory=list)
    garbage: int = 0


def json_response(value: object, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


class FakeServer:
    """The HTTP plumbing every fake shares; subclasses implement :meth:`route` and
    :meth:`authorized`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self._faults = _Faults()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- misbehaving ---------------------------------------------------------------------------

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        self._faults.statuses.extend([status] * times)

    def garbage_next(self, times: int = 1) -> None:
        self._faults.garbage += times

    # -- what subclasses answer ----------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    async def route(self, request: Request) -> Response:
        raise NotImplementedError

    def unauthorized(self) -> Response:
        return Response(b"", status_code=401)

    # -- running -------------------------------------------------------------------------------

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi,
            lifespan="off",
            log_config=None,
            log_level="critical",
            access_log=False,
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
            interface="asgi3",
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Close the port (the same port can be started again)."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._server = self._task = None

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        self.requests.append(
            Recorded(
                method=request.method,
                path=request.url.path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
            )
        )
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await self._answer(request)
        finally:
            self.in_flight -= 1
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.authorized(request):
            return self.unauthorized()
        if self._faults.statuses:
            return Response(b"server error", status_code=self._faults.statuses.pop(0))
        if self._faults.garbage:
            self._faults.garbage -= 1
            return Response(b"<html>\x00 not json", media_type="application/json")
        return await self.route(request)

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """The recorded requests, filtered by method and path."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]


__all__ = ["FakeServer", "Handler", "Recorded", "json_response"]
