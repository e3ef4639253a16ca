"""``/api/v1/events``: queue events, live, over a WebSocket.

Connect with the API key (``?apikey=KEY``, since browsers cannot set headers on a
WebSocket, or ``X-Api-Key``/Basic from other clients), or, from a dashboard page of the
same origin, with its session cookie. Each message is one JSON object::

    {"id": 42, "kind": "completed", "at": "2025-...+00:00", "job_id": 7,
     "job_type": "webhook", "data": {"attempt": 1, "duration_ms": 3.2}}

With a storage engine that keeps a shared event log (SQLite does) these are every
process's events, numbered by the log; otherwise this process's only (see
:mod:`relayarr.web.feed`).

The first message is ``{"kind": "hello", "id": null, "data": {"stream": S, "last_id": N,
"oldest_id": M}}``. To resume after a reconnect, pass ``?after=<last id seen>`` (and
``&stream=S``): every event since is sent first, then live ones. When some are no longer
held, or the numbering changed (a local stream after a restart), a ``{"kind": "gap",
"id": null, "data": {"missed": K, "reason": ...}}`` message comes first: reload state
from the API. Without ``after`` only new events are sent.

Close codes: 4401 wrong or missing key, 4400 bad query parameter, 1012 server restarting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from relayarr.errors import Unauthorized
from relayarr.jobqueue import JSONValue
from relayarr.web import auth
from relayarr.web.context import WebContext, connection_context
from relayarr.web.dashboard.guard import websocket_session
from relayarr.web.feed import EventFeed

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_REQUEST = 4400

router = APIRouter()


def _control(kind: str, data: dict[str, JSONValue]) -> str:
    text = orjson.dumps(
        {
            "id": None,
            "kind": kind,
            "at": datetime.now(UTC).isoformat(),
            "job_id": None,
            "job_type": None,
            "data": data,
        }
    )
    return text.decode()


def _cursor(websocket: WebSocket, feed: EventFeed) -> tuple[int, str | None]:
    """Where this client starts: (last id it has seen, why it missed some if it did)."""
    raw_after = websocket.query_params.get("after")
    stream = websocket.query_params.get("stream")
    if raw_after is None:
        return feed.last_id, None
    if not raw_after.isdigit() or len(raw_after) > 18:
        raise ValueError("after must be a non-negative integer")
    after = int(raw_after)
    if (stream is not None and stream != feed.stream) or after > feed.last_id:
        return feed.oldest_id - 1, "restarted"  # another numbering: replay what we hold
    return after, None


@router.websocket("/api/v1/events")
async def events(websocket: WebSocket) -> None:
    """Stream queue events to one client until it or the server goes away."""
    ctx = connection_context(websocket)
    await websocket.accept()
    try:
        if websocket_session(websocket) is None:  # a dashboard page of this origin
            auth.check(websocket, ctx)
    except Unauthorized as exc:
        logger.warning(
            "websocket refused: no valid API key",
            extra={"service": "web", "operation": "events"},
        )
        await websocket.close(CLOSE_UNAUTHORIZED, str(exc)[:120])
        return
    try:
        after, reason = _cursor(websocket, ctx.events)
    except ValueError as exc:
        await websocket.close(CLOSE_BAD_REQUEST, str(exc))
        return
    sender = asyncio.create_task(_send_events(websocket, ctx, after, reason))
    try:
        while True:  # the client has nothing to say; this notices when it leaves
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await sender


async def _send_events(
    websocket: WebSocket, ctx: WebContext, after: int, reason: str | None
) -> None:
    feed = ctx.events
    hello: dict[str, JSONValue] = {
        "stream": feed.stream,
        "last_id": feed.last_id,
        "oldest_id": feed.oldest_id,
    }
    await websocket.send_text(_control("hello", hello))
    cursor = after
    while True:
        backlog = await feed.backlog(cursor)
        if backlog.missed or reason is not None:
            gap: dict[str, JSONValue] = {
                "missed": backlog.missed,
                "reason": reason or "no longer held",
            }
            await websocket.send_text(_control("gap", gap))
            reason = None
        for event in backlog.events:
            await websocket.send_text(orjson.dumps(event.to_dict()).decode())
            cursor = event.id
        if not backlog.events:
            await feed.wait_after(cursor)


__all__ = ["CLOSE_BAD_REQUEST", "CLOSE_UNAUTHORIZED", "router"]
