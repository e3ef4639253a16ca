"""Typed, forgiving reads of provider JSON: a missing or mistyped value reads as empty.

Providers add, drop and null fields over time; a field of the wrong type must cost that
field, not the whole item.
"""

from __future__ import annotations

from relayarr.jobqueue.models import JSONObject


def text(data: JSONObject, key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def integer(data: JSONObject, key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def number(data: JSONObject, key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def obj(data: JSONObject, key: str) -> JSONObject:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def objects(data: JSONObject, key: str) -> list[JSONObject]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def strings(data: JSONObject, key: str) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [v.strip() for v in value if isinstance(v, str) and v.strip()]


def names(items: list[JSONObject], key: str = "name") -> tuple[str, ...]:
    """Distinct non-empty ``key`` texts of ``items``, in order."""
    return tuple(dict.fromkeys(t for t in (text(item, key) for item in items) if t))


__all__ = ["integer", "names", "number", "obj", "objects", "strings", "text"]
