"""What every route needs, built once per app: the queue, the key, the limits, the feeds.

Routes get it with ``Depends(context)``; it lives on ``app.state`` so that two apps (two
tests, say) never share anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi import Request
from starlette.requests import HTTPConnection

from relayarr.app import Services
from relayarr.jobqueue import JobQueue
from relayarr.web.feed import EventFeed
from relayarr.web.metrics import Metrics


@dataclass(eq=False)
class WebContext:
    """The running service as the web layer sees it.

    ``workers`` says whether this process runs handlers (``serve`` without
    ``--no-workers``); ``api_key`` is kept as bytes for constant-time comparison and is
    never part of a repr.
    """

    queue: JobQueue
    api_key: bytes = field(repr=False)
    max_body_bytes: int
    metrics_public: bool
    workers: bool
    events: EventFeed
    metrics: Metrics
    services: Services = field(default_factory=Services)
    started_at: float = field(default_factory=time.monotonic)


async def context(request: Request) -> WebContext:
    """FastAPI dependency: the :class:`WebContext` of the app serving ``request``
    (async so that FastAPI calls it inline rather than in a thread pool)."""
    return connection_context(request)


def connection_context(connection: HTTPConnection) -> WebContext:
    """The :class:`WebContext` of an HTTP request or a WebSocket."""
    found: WebContext = connection.app.state.relayarr
    return found


__all__ = ["WebContext", "connection_context", "context"]
