"""The job handlers of relayarr's media pipeline, and :func:`register` to install them.

Handlers connect services and create follow-up jobs; they hold no logic of their own
beyond that routing. Today there is one: ``webhook``, the first consumer of what the web
service stores, which parses the stored body into the typed model and completes with a
short summary (source, event, title, paths, ids) so the API shows what arrived. Routing to
scans and player notifications replaces that summary-only step when those services exist.
"""

from __future__ import annotations

import logging

from relayarr.arr import ArrEvent, Source, parse_webhook
from relayarr.errors import PayloadInvalid
from relayarr.jobqueue import Job, JobQueue, JSONObject, JSONValue, PermanentFailure

log = logging.getLogger(__name__)

WEBHOOK = "webhook"
"""Job type of a stored webhook. Payload, as the web service stores it::

    {"source": "radarr" | "sonarr", "instance": str | None,
     "received_at": "2025-03-08T21:14:07.123456+00:00", "body": <the JSON as received>}

``instance`` is the optional name from the URL (``/api/v1/webhooks/radarr/4k``), not the
body's ``instanceName``.
"""

_SOURCES = {source.value: source for source in Source}


async def handle_webhook(job: Job) -> JSONValue:
    """Parse a stored webhook and return its :meth:`~relayarr.arr.ArrEvent.summary`,
    plus ``endpoint_instance`` when the URL named one.

    Fails permanently (retrying cannot help) when the payload lacks a known ``source`` or
    a ``body``, or the body no longer parses: the web service accepted it with the same
    parser, so that means the parser changed since, and the message names the field.
    """
    # Parsed again, though the intake parsed it before storing it: handing the parsed
    # model over in memory was measured and dropped. Models held until their job runs
    # survive into the oldest GC generation, and its collections then cost more (about
    # 100 us a webhook in a saturated server) than this parse (about 25 us, off the ack).
    payload = job.payload
    event = _parse_stored(payload)
    summary = event.summary()
    instance = payload.get("instance")
    if isinstance(instance, str):
        summary["endpoint_instance"] = instance
    if log.isEnabledFor(logging.DEBUG):  # the intake logged its arrival at INFO
        log.debug(
            "webhook summarised",
            extra={
                "source": event.source.value,
                "event": event.event_type,
                "known": event.known,
                "title": summary["title"],
            },
        )
    return summary


def _parse_stored(payload: JSONObject) -> ArrEvent:
    raw_source = payload.get("source")
    source = _SOURCES.get(raw_source) if isinstance(raw_source, str) else None
    if source is None:
        raise PermanentFailure(f"webhook job has no known source: {raw_source!r}")
    if "body" not in payload:
        raise PermanentFailure("webhook job has no body")
    try:
        return parse_webhook(source, payload["body"])
    except PayloadInvalid as exc:
        raise PermanentFailure(f"stored {source} webhook no longer parses: {exc}") from exc


def register(queue: JobQueue) -> None:
    """Register the pipeline's handlers on ``queue`` (called by the composition root)."""
    queue.register(WEBHOOK, handle_webhook)


__all__ = ["WEBHOOK", "handle_webhook", "register"]
