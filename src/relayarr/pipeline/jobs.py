"""The pipeline's job types and the payloads they carry between handlers.

::

    webhook ──► scan-movie / scan-series ──► enrich ──► publish ──► notify-players
       │            (one per folder, debounced      (skipped while [metadata]
       │             by library.settle_seconds)      is not configured)
       └──► notify-players (deletes)
    reconcile ──► scan-movie / scan-series / notify-players (what changed on disk)

Every follow-up records its parent, so a webhook's job lists the whole chain under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from relayarr.arr.media import MediaEvent
from relayarr.jobqueue import JSONObject, JSONValue, PermanentFailure

WEBHOOK = "webhook"
"""A stored webhook. Payload, as the web service stores it::

    {"source": "radarr" | "sonarr", "instance": str | None,
     "received_at": "2025-03-08T21:14:07.123456+00:00", "body": <the JSON as received>}

``instance`` is the optional name from the URL (``/api/v1/webhooks/radarr/4k``), not the
body's ``instanceName``.
"""

SCAN_MOVIE = "scan-movie"
SCAN_SERIES = "scan-series"
ENRICH = "enrich"
PUBLISH = "publish"
NOTIFY_PLAYERS = "notify-players"
RECONCILE = "reconcile"

RECONCILE_PERIODIC_KEY = "reconcile"
"""The unique key of the periodic reconciliation: at most one is scheduled per deployment,
however many processes run workers."""
RECONCILE_NOW_KEY = "reconcile-now"
"""The unique key of a reconciliation asked for now (``scan --all``, start-up catch-up)."""


class ScanReason(StrEnum):
    """Why a folder is scanned."""

    WEBHOOK = "webhook"
    MANUAL = "manual"
    RECONCILE = "reconcile"
    BASELINE = "baseline"  # the first pass over a root: players already have its items


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """The payload of ``scan-movie`` and ``scan-series``: one item folder, as relayarr
    sees it, inside ``root``; ``hint`` is the file the webhook named, if any; ``event`` is
    the webhook's media event (title, ids, artwork for the library and offline metadata).
    """

    folder: str
    root: str
    reason: ScanReason
    hint: str | None = None
    event: MediaEvent | None = None

    def unique_key(self) -> str:
        """One scan per folder at a time: a burst of events for it coalesces into one."""
        return f"scan:{self.folder}"

    def to_json(self) -> JSONObject:
        data: dict[str, JSONValue] = {
            "folder": self.folder,
            "root": self.root,
            "reason": self.reason.value,
        }
        if self.hint is not None:
            data["hint"] = self.hint
        if self.event is not None:
            data["event"] = self.event.to_json()
        return data

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> ScanRequest:
        """Read a job payload; a malformed one fails the job for good (nothing can fix it)."""
        try:
            event = payload.get("event")
            hint = payload.get("hint")
            return cls(
                folder=_text(payload, "folder"),
                root=_text(payload, "root"),
                reason=ScanReason(str(payload.get("reason", ScanReason.MANUAL))),
                hint=hint if isinstance(hint, str) and hint else None,
                event=MediaEvent.from_json(event) if isinstance(event, Mapping) else None,
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise PermanentFailure(f"malformed scan payload: {exc}") from exc


def _text(payload: Mapping[str, object], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key!r} must be a non-empty string")
    return value


__all__ = [
    "ENRICH",
    "NOTIFY_PLAYERS",
    "PUBLISH",
    "RECONCILE",
    "RECONCILE_NOW_KEY",
    "RECONCILE_PERIODIC_KEY",
    "SCAN_MOVIE",
    "SCAN_SERIES",
    "WEBHOOK",
    "ScanReason",
    "ScanRequest",
]
