"""From a decoded webhook body to an :class:`ArrEvent`: :func:`parse_webhook`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import orjson
from pydantic import ValidationError

from relayarr.arr.common import ArrPayload, MediaIds, MediaPaths, UnknownEvent
from relayarr.arr.radarr import RADARR_EVENTS, RadarrPayload
from relayarr.arr.sonarr import SonarrPayload, sonarr_model
from relayarr.errors import FieldError, PayloadInvalid
from relayarr.jobqueue import JSONValue

AnyPayload = RadarrPayload | SonarrPayload | UnknownEvent
"""Every model :func:`parse_webhook` can return as :attr:`ArrEvent.payload`."""


class Source(StrEnum):
    """The *arr app a webhook came from (the last part of its URL)."""

    RADARR = "radarr"
    SONARR = "sonarr"


@dataclass(frozen=True, slots=True)
class ArrEvent:
    """One webhook, parsed: where it came from, what it is, and its typed payload.

    ``event_type`` is exactly as sent (``"Download"``, ``"MovieFileDelete"``...); ``known``
    is False for an event type the source does not send (then ``payload`` is an
    :class:`UnknownEvent` with the common fields only).
    """

    source: Source
    event_type: str
    instance_name: str | None
    known: bool
    payload: ArrPayload

    @property
    def is_test(self) -> bool:
        """The *arr's "Test" button: acknowledge, do nothing."""
        return self.event_type == "Test"

    def title(self) -> str | None:
        """The movie or series title, if the event is about one."""
        return self.payload.title()

    def ids(self) -> MediaIds:
        """tmdb/imdb/tvdb/tvmaze ids of the movie or series (None where unknown)."""
        return self.payload.ids()

    def paths(self) -> MediaPaths:
        """Library folders, present files and removed files the event is about."""
        return self.payload.paths()

    def summary(self) -> dict[str, JSONValue]:
        """A short JSON view for job results and the API.

        Always ``source``, ``event``, ``instance``, ``known``, ``title`` (maybe null),
        ``paths`` (every library path once) and ``ids`` (known ones only); ``year`` when
        known; then event-specific entries that have a value (``episodes``, ``upgrade``,
        ``download_id``, ``reason``, ``level``, ``message``...).

        >>> parse_webhook(Source.RADARR, body).summary()  # doctest: +SKIP
        {'source': 'radarr', 'event': 'Download', 'instance': 'Radarr', 'known': True,
         'title': 'Arrival', 'year': 2016, 'paths': ['/movies/Arrival (2016)', ...],
         'ids': {'tmdb': 329865, 'imdb': 'tt2543164'}, 'upgrade': True, ...}
        """
        payload = self.payload
        summary: dict[str, JSONValue] = {
            "source": self.source.value,
            "event": self.event_type,
            "instance": self.instance_name,
            "known": self.known,
            "title": payload.title(),
        }
        year = payload.year()
        if year is not None:
            summary["year"] = year
        summary["paths"] = list[JSONValue](payload.paths().all())
        summary["ids"] = payload.ids().as_json()
        for key, value in payload.details().items():
            if value is not None:
                summary[key] = value
        return summary


def parse_webhook(source: Source, body: object, *, raw: bytes | None = None) -> ArrEvent:
    """Parse a decoded webhook body from ``source``; raise :class:`PayloadInvalid` when it
    does not fit, naming each bad field by its dotted wire path (``movie.folderPath``).

    Invalid: a body that is not an object, ``eventType`` missing or not a string, a known
    event whose fields have the wrong type or that lacks what relayarr needs to act on it.
    Not invalid: unknown fields (ignored), absent optional fields, explicit nulls (read as
    absent: the apps omit nulls, but a relay or an older version that writes them must not
    be refused for it), and unknown event types (parsed with ``known=False``: refusing them
    would make the *arr disable the connection).

    ``raw``, the JSON text ``body`` was decoded from, spares a check for nulls.

    >>> event = parse_webhook(Source.RADARR, {"eventType": "Test", "movie": {"id": 1}})
    >>> event.is_test, event.known
    (True, True)
    """
    source = Source(source)  # a plain "radarr" works too
    if not isinstance(body, Mapping):
        raise PayloadInvalid([FieldError("body", "Input should be a JSON object")])
    event_type = body.get("eventType")
    if event_type is None:
        raise PayloadInvalid([FieldError("eventType", "Field required")])
    if not isinstance(event_type, str):
        raise PayloadInvalid([FieldError("eventType", "Input should be a valid string")])
    if source is Source.RADARR:
        model = RADARR_EVENTS.get(event_type)
    else:
        model = sonarr_model(event_type, body)
    known = model is not None
    if _may_hold_null(body, raw):
        body = _without_nulls(body)
    try:
        payload = (model or UnknownEvent).model_validate(body)
    except ValidationError as exc:
        raise PayloadInvalid(_field_errors(exc)) from exc
    problems = payload.problems()
    if problems:
        raise PayloadInvalid(problems)
    return ArrEvent(
        source=source,
        event_type=event_type,
        instance_name=payload.instance_name,
        known=known,
        payload=payload,
    )


def _may_hold_null(body: object, raw: bytes | None) -> bool:
    # A scan of the JSON text at C speed; the walk that drops nulls costs ten times more,
    # and webhooks seldom hold one (the apps omit them).
    if raw is None:
        try:
            raw = orjson.dumps(body)
        except TypeError:  # not JSON-shaped: let the walk and the models judge it
            return True
    return b"null" in raw


def _without_nulls(value: object) -> object:
    """``value`` with every null member of every object left out, at any depth."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _field_errors(exc: ValidationError) -> list[FieldError]:
    """pydantic's errors as dotted wire paths (aliases, list indexes as numbers)."""
    return [
        FieldError(".".join(str(part) for part in error["loc"]) or "body", error["msg"])
        for error in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


__all__ = ["AnyPayload", "ArrEvent", "Source", "parse_webhook"]
