"""The HTTP routes, one module per concern; :data:`ROUTERS` is what the app mounts."""

from __future__ import annotations

from relayarr.web.routes import health, jobs, library, players, queue, webhooks

ROUTERS = (
    webhooks.router,
    jobs.router,
    queue.router,
    library.router,
    players.router,
    health.router,
)

__all__ = ["ROUTERS", "health", "jobs", "library", "players", "queue", "webhooks"]
