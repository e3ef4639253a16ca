"""How jobs and times read on the dashboard: template filters and one-line summaries.

Everything here returns plain text; the templates escape it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from relayarr.jobqueue import Job, JSONValue


def when(moment: datetime | None) -> str:
    """``2025-03-08 21:14:07 UTC``, or an empty string."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat()


def seconds(value: float | None) -> str:
    """A duration for people: ``850 ms``, ``12.3 s``, ``4 min 10 s``, ``2 h 5 min``."""
    if value is None:
        return ""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """``5.0 s ago`` / ``in 3 min 0 s``, relative to now."""
    if moment is None:
        return ""
    delta = ((now or datetime.now(UTC)) - moment).total_seconds()
    return f"{seconds(delta)} ago" if delta >= 0 else f"in {seconds(-delta)}"


def size(count: int | None) -> str:
    """A file size for people: ``512 B``, ``1.5 KB``, ``20.0 GB`` (powers of 1024)."""
    if count is None:
        return ""
    if count < 1024:
        return f"{count} B"
    value = count / 1024
    for unit in ("KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def pretty_json(value: JSONValue | object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def _dig(value: object, *path: str) -> object:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


_TITLE_PATHS = (
    ("title",),
    ("body", "movie", "title"),
    ("body", "series", "title"),
    ("body", "remoteMovie", "title"),
    ("path",),
    ("folder",),
)


def summary(job: Job) -> str:
    """A short line saying what the job is about: the webhook's source, event and title,
    or a title or path from its payload or result; empty when nothing fits."""
    parts: list[str] = []
    payload = job.payload
    source = payload.get("source")
    event = _dig(payload, "body", "eventType")
    if isinstance(source, str):
        parts.append(source)
    if isinstance(event, str):
        parts.append(event)
    for path in _TITLE_PATHS:
        found = _dig(payload, *path)
        if isinstance(found, str) and found:
            parts.append(found)
            break
    else:
        title = _dig(job.result, "title")
        if isinstance(title, str) and title:
            parts.append(title)
    return " · ".join(parts)[:200]


FILTERS: dict[str, Callable[..., Any]] = {
    "when": when,
    "iso": iso,
    "seconds": seconds,
    "ago": ago,
    "pretty_json": pretty_json,
    "size": size,
    "summary": summary,
}

__all__ = ["FILTERS", "ago", "iso", "pretty_json", "seconds", "size", "summary", "when"]
