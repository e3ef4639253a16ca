"""create_app: the ASGI application of ``relayarr serve``, on a queue built elsewhere.

The app does not own the queue or its storage: the caller (``relayarr serve``, a test)
opens them, starts and stops the workers, and closes storage after the server has
finished its last request. That keeps the order of a graceful stop in one place
(:mod:`relayarr.web.server`) and lets tests drive the app in-process.

>>> app = create_app(queue, settings.server, api_key="...")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from relayarr.app import Services
from relayarr.config import ServerSettings
from relayarr.jobqueue import JobQueue
from relayarr.web import errors
from relayarr.web.context import WebContext
from relayarr.web.dashboard import install as install_dashboard
from relayarr.web.feed import DEFAULT_CAPACITY, EventFeed
from relayarr.web.intake import WebhookIntake
from relayarr.web.metrics import Metrics
from relayarr.web.middleware import AccessLog, BodyLimit
from relayarr.web.routes import ROUTERS, webhooks
from relayarr.web.ws import router as events_router

API_PREFIX = "/api/v1"


class RelayarrApp(FastAPI):
    """FastAPI with the webhook intake in front: webhook requests go to
    :class:`~relayarr.web.intake.WebhookIntake` before FastAPI's middleware, the rest to
    FastAPI as usual."""

    intake: WebhookIntake | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        intake = self.intake
        if intake is not None and (path := intake.match(scope)) is not None:
            scope["app"] = self
            await intake.serve(scope, receive, send, path)
            return
        await super().__call__(scope, receive, send)


def create_app(
    queue: JobQueue,
    server: ServerSettings,
    *,
    api_key: str,
    workers: bool = True,
    event_capacity: int = DEFAULT_CAPACITY,
    services: Services | None = None,
) -> RelayarrApp:
    """The HTTP service over ``queue``: webhooks, the JSON API, events, health, metrics,
    and the dashboard at ``/``.

    ``api_key`` guards everything but /api/v1/health (and /metrics when
    ``server.metrics_public``); ``workers`` is reported by health; ``services`` (owned by
    the caller) are the library and the players the API shows. The app's lifespan
    follows the storage's shared event log when the queue shares events; otherwise it
    records this process's events from creation on (for /metrics and the WebSocket).
    """
    if not api_key:
        raise ValueError("an API key is required")
    # The webhook route stores "webhook" jobs even on a node whose handlers run elsewhere.
    queue.declare(webhooks.JOB_TYPE)
    metrics = Metrics()
    feed = EventFeed(queue, event_capacity)
    feed.add_listener(metrics.on_event)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await feed.start()
        try:
            yield
        finally:
            await feed.stop()

    app = RelayarrApp(
        lifespan=lifespan,
        title="relayarr",
        summary="Durable webhook relay from Radarr/Sonarr to media players",
        version="0.1.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.relayarr = ctx = WebContext(
        queue=queue,
        api_key=api_key.encode("utf-8"),
        max_body_bytes=server.max_body_bytes,
        metrics_public=server.metrics_public,
        workers=workers,
        events=feed,
        metrics=metrics,
        services=services or Services(),
    )
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.intake = WebhookIntake(ctx)
    app.include_router(events_router)
    install_dashboard(app, ctx)
    # Added last runs first: the access log sees every answer, the limit every body.
    app.add_middleware(BodyLimit, limit=server.max_body_bytes)
    app.add_middleware(AccessLog)
    return app


__all__ = ["API_PREFIX", "RelayarrApp", "create_app"]
