"""The job handlers of relayarr's media pipeline, and :func:`register` to install them.

Handlers connect services and create follow-up jobs; they hold no logic of their own
beyond that routing. Today there is one: ``webhook``, the first consumer of what the web
service stores, which parses the stored body into the typed model and completes with a
short summary (source, event, title, paths, ids) so the API shows what arrived. Routing to
scans and player notifications replaces that summary-only step when those services exist.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

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


class ParsedWebhooks:
    """Webhook events the web intake parsed in this process, held for their job's handler.

    The intake parses and checks every body before storing it; when the job then runs in
    the same process (``relayarr serve`` with its workers, the default), the handler takes
    the event from here instead of parsing the stored body again. A job run by another
    process, retried, or pushed out by ``capacity`` newer webhooks is parsed from its
    payload as before: this only ever saves work.
    """

    def __init__(self, capacity: int = 1024) -> None:
        # OrderedDict, not dict: dropping a plain dict's first key again and again makes
        # finding the next first key walk over every hole left before it.
        self._events: OrderedDict[int, ArrEvent] = OrderedDict()
        self._capacity = capacity

    def keep(self, job_id: int, event: ArrEvent) -> None:
        """Hold ``event``, parsed from the body stored in job ``job_id``."""
        events = self._events
        events[job_id] = event
        if len(events) > self._capacity:
            events.popitem(last=False)  # the oldest

    def take(self, job_id: int) -> ArrEvent | None:
        """The event held for ``job_id``, once; None when none is."""
        return self._events.pop(job_id, None)

    def __len__(self) -> int:
        return len(self._events)


async def handle_webhook(job: Job, parsed: ParsedWebhooks | None = None) -> JSONValue:
    """Parse a stored webhook and return its :meth:`~relayarr.arr.ArrEvent.summary`,
    plus ``endpoint_instance`` when the URL named one. With ``parsed``, an event the
    intake held for this job is used instead of parsing the payload again.

    Fails permanently (retrying cannot help) when the payload lacks a known ``source`` or
    a ``body``, or the body no longer parses: the web service accepted it with the same
    parser, so that means the parser changed since, and the message names the field.
    """
    payload = job.payload
    event = parsed.take(job.id) if parsed is not None else None
    if event is None:
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


def register(queue: JobQueue, parsed: ParsedWebhooks | None = None) -> None:
    """Register the pipeline's handlers on ``queue`` (called by the composition root);
    ``parsed`` is the hand-off from a web intake in this process, if there is one."""
    if parsed is None:
        queue.register(WEBHOOK, handle_webhook)
        return

    async def webhook(job: Job) -> JSONValue:
        return await handle_webhook(job, parsed)

    queue.register(WEBHOOK, webhook)


__all__ = ["WEBHOOK", "ParsedWebhooks", "handle_webhook", "register"]
