"""``POST|PUT /api/v1/webhooks/{radarr|sonarr}[/{instance}]``: store the event, answer at once.

The *arr apps send each event once and never retry, so this route does as little as
possible and answers only once the job is durably stored:

1. the API key is checked (401 before the body is even read);
2. the body is read under the size limit (413) and decoded (400);
3. it is parsed into the typed model (422 naming the bad fields), which is all the
   checking there is: unknown event types are accepted and recorded;
4. a ``Test`` event answers 200 and stores nothing;
5. everything else becomes one ``webhook`` job (priority 1) holding the raw body, and the
   answer is 202 with its id.

Storage failures answer 503 (see :mod:`relayarr.web.errors`): the *arr logs a failure
the user can see, instead of an event silently lost.

Requests are served by :mod:`relayarr.web.intake`, ahead of FastAPI's middleware and
routing, which cost as much as storing the job; it runs steps 1 and 2 itself and
:func:`accept` for the rest. The FastAPI routes here never see a request: they give the
OpenAPI document its webhook operations (and would serve them, through the same
:func:`accept`, in an app without the intake).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse, Response

from relayarr.arr import Source, parse_webhook
from relayarr.errors import MalformedBody
from relayarr.jobqueue import JSONObject
from relayarr.pipeline.jobs import WEBHOOK
from relayarr.web.auth import RequireKey
from relayarr.web.context import WebContext, context
from relayarr.web.schemas import ErrorOut, WebhookAccepted, WebhookTest

JOB_TYPE = WEBHOOK
PRIORITY = 1
INSTANCE_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]{0,30}[a-z0-9])?$"
METHODS = ("POST", "PUT")

PREFIX = "/api/v1/webhooks"
_TEST_ANSWER = orjson.dumps({"status": "ok", "test": True})
_INSTANCE = re.compile(INSTANCE_PATTERN)

router = APIRouter(prefix=PREFIX, tags=["webhooks"], dependencies=[RequireKey])

Instance = Annotated[
    str,
    Path(
        pattern=INSTANCE_PATTERN,
        description="a name telling two *arr instances apart: 1-32 of a-z 0-9 _ -",
        examples=["4k"],
    ),
]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": WebhookTest, "description": "a Test event: nothing stored"},
    202: {"model": WebhookAccepted, "description": "stored as a webhook job"},
    400: {"model": ErrorOut, "description": "the body is not JSON"},
    401: {"model": ErrorOut, "description": "no or wrong API key"},
    413: {"model": ErrorOut, "description": "the body is over the size limit"},
    422: {"model": ErrorOut, "description": "the payload does not fit the schema"},
    503: {"model": ErrorOut, "description": "storage unavailable; nothing stored"},
}
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "the webhook body exactly as Radarr or Sonarr sends it",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def decode_body(raw: bytes) -> object:
    """The JSON document in ``raw``; :class:`MalformedBody` when it is not strict JSON
    (orjson: UTF-8 only, no NaN or Infinity, no lone surrogates or raw control characters,
    nesting up to 1024 deep)."""
    if not raw.strip():
        raise MalformedBody("request body is empty; expected a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"request body is not valid JSON: {exc}") from None


async def accept(
    ctx: WebContext, source: Source, instance: str | None, raw: bytes, log: dict[str, object]
) -> tuple[int, bytes]:
    """Steps 2 to 5 above on a body already read: the status and JSON of the answer.

    ``log`` receives the context of the request's access log line (source, event, title,
    instance, job_id)."""
    started = time.perf_counter()
    body = decode_body(raw)
    event = parse_webhook(source, body, raw=raw)
    log["source"] = source.value
    log["event"] = _printable(event.event_type)
    if instance is not None:
        log["instance"] = instance
    if event.is_test:
        ctx.metrics.webhook(source.value, "test")
        return 200, _TEST_ANSWER
    assert isinstance(body, dict), "parse_webhook accepts JSON objects only"
    title = event.title()
    if title is not None:
        log["title"] = _printable(title)
    moment = datetime.fromtimestamp(ctx.queue.clock.now(), UTC)
    received_at = moment.isoformat().replace("+00:00", "Z")
    payload: JSONObject = {
        "source": source.value,
        "instance": instance,
        "received_at": received_at,
        "body": body,
    }
    job = await ctx.queue.add_job(JOB_TYPE, payload, priority=PRIORITY)
    log["job_id"] = job.id
    ctx.metrics.webhook(source.value, "accepted", time.perf_counter() - started)
    return 202, orjson.dumps({"job_id": job.id, "status": "queued"})


def _printable(text: str) -> str:
    """Sender text for a log line: one short printable line."""
    return (text if text.isprintable() else ascii(text))[:64]


def path_params(source: str, instance: str | None) -> tuple[Source, str | None]:
    """The path's source and instance, checked; :class:`RequestValidationError` (422
    invalid_request naming ``path.source`` or ``path.instance``) when one is bad."""
    try:
        checked = Source(source)
    except ValueError:
        raise _path_error("source", "Input should be 'radarr' or 'sonarr'") from None
    if instance is not None and not _INSTANCE.match(instance):
        raise _path_error("instance", f"String should match pattern '{INSTANCE_PATTERN}'")
    return checked, instance


def _path_error(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("path", name), "msg": message}])


async def receive(
    request: Request, ctx: WebContext, source: Source, instance: str | None
) -> Response:
    """:func:`accept` for a FastAPI route (the documented operations below)."""
    status, answer = await accept(ctx, source, instance, await request.body(), request.state.log)
    return Response(answer, status_code=status, media_type="application/json")


async def _documented(
    request: Request,
    source: Source,
    ctx: Annotated[WebContext, Depends(context)],
) -> Response:  # pragma: no cover - the intake serves these requests
    return await receive(request, ctx, source, None)


async def _documented_instance(
    request: Request,
    source: Source,
    instance: Instance,
    ctx: Annotated[WebContext, Depends(context)],
) -> Response:  # pragma: no cover - the intake serves these requests
    return await receive(request, ctx, source, instance)


# One route per method: FastAPI names operations after their first method, so a shared
# route would give two OpenAPI operations the same id.
for _method in METHODS:
    router.add_api_route(
        "/{source}",
        _documented,
        methods=[_method],
        name=f"webhook_{_method.lower()}",
        summary=f"Receive a Radarr or Sonarr webhook ({_method})",
        status_code=202,
        responses=_RESPONSES,
        openapi_extra=_BODY_DOC,
        response_class=JSONResponse,
    )
    router.add_api_route(
        "/{source}/{instance}",
        _documented_instance,
        methods=[_method],
        name=f"webhook_instance_{_method.lower()}",
        summary=f"Receive a webhook from a named *arr instance ({_method})",
        status_code=202,
        responses=_RESPONSES,
        openapi_extra=_BODY_DOC,
        response_class=JSONResponse,
    )

__all__ = [
    "INSTANCE_PATTERN",
    "JOB_TYPE",
    "METHODS",
    "PREFIX",
    "PRIORITY",
    "accept",
    "decode_body",
    "path_params",
    "receive",
    "router",
]
