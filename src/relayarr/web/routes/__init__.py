"""The HTTP routes, one module per concern; :data:`ROUTERS` is what the app mounts."""

from __future__ import annotations

from relayarr.web.routes import health, jobs, players, queue, webhooks

ROUTERS = (webhooks.router, jobs.router, queue.router, health.router, players.router)

__all__ = ["ROUTERS", "health", "jobs", "players", "queue", "webhooks"]
