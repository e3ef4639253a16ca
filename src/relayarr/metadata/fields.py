"""Fields of the metadata values, one by one: which can be locked, when one is empty,
and how a value travels as JSON (for the stores) and as a fingerprint (for edit detection).

A field is named as the dataclass attribute (``title``, ``genres``, ``actors``...); the
same name means the same type in every kind, so one table decodes them all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, cast

import orjson

from relayarr.jobqueue.models import JSONValue
from relayarr.metadata.models import (
    Actor,
    AnyMetadata,
    Collection,
    Rating,
    UniqueIds,
)

FieldValue: TypeAlias = (
    "str | int | tuple[str, ...] | tuple[Rating, ...] | tuple[Actor, ...]"
    " | UniqueIds | Collection | None"
)
"""The value of one lockable field."""

FieldValues: TypeAlias = Mapping[str, FieldValue]
"""Some fields of one item, by name (what an NFO holds, what a user set)."""

# Artwork is published as files, not as fields: its candidates are merged whole.
NOT_FIELDS = frozenset({"artwork"})


def field_names(kind: type[AnyMetadata]) -> tuple[str, ...]:
    """The lockable fields of a metadata kind, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(kind) if f.name not in NOT_FIELDS)


def values_of(meta: AnyMetadata) -> dict[str, FieldValue]:
    """Every lockable field of ``meta`` by name."""
    return {name: getattr(meta, name) for name in field_names(type(meta))}


def is_empty(value: object) -> bool:
    """True for "nothing known": None, "", (), and ids with no id at all."""
    if isinstance(value, UniqueIds):
        return value.is_empty()
    return value is None or value == "" or value == ()


def to_json(value: FieldValue) -> JSONValue:
    """A field value as plain JSON (dataclasses become objects)."""
    if isinstance(value, tuple):
        return [to_json(cast(FieldValue, item)) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: cast(JSONValue, v) for k, v in dataclasses.asdict(value).items()}
    return cast(JSONValue, value)


def fingerprint(value: FieldValue) -> str:
    """A stable text for comparing a field's value with what was written before."""
    canonical = None if is_empty(value) else to_json(value)
    return orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS).decode()


def fingerprints(values: FieldValues, names: tuple[str, ...]) -> dict[str, str]:
    """Fingerprints of ``names``; a field missing from ``values`` counts as empty."""
    return {name: fingerprint(values.get(name)) for name in names}


def from_json(name: str, data: JSONValue) -> FieldValue:
    """Decode a field stored by :func:`to_json`; raises ValueError on a wrong shape."""
    decode = _DECODERS.get(name)
    if decode is None:
        raise ValueError(f"unknown metadata field {name!r}")
    try:
        return decode(data)
    except (TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"field {name!r}: stored value has the wrong shape") from exc


def _text(data: JSONValue) -> FieldValue:
    return "" if data is None else str(data)


def _int(data: JSONValue) -> FieldValue:
    return None if data is None else int(cast(int, data))


def _texts(data: JSONValue) -> FieldValue:
    return tuple(str(v) for v in cast(list[JSONValue], data or []))


def _ratings(data: JSONValue) -> FieldValue:
    items = cast(list[dict[str, Any]], data or [])
    return tuple(Rating(**item) for item in items)


def _actors(data: JSONValue) -> FieldValue:
    items = cast(list[dict[str, Any]], data or [])
    return tuple(Actor(**item) for item in items)


def _ids(data: JSONValue) -> FieldValue:
    return UniqueIds(**cast(dict[str, Any], data or {}))


def _collection(data: JSONValue) -> FieldValue:
    if not data:
        return None
    return Collection(**cast(dict[str, Any], data))


_DECODERS: dict[str, Callable[[JSONValue], FieldValue]] = {
    **dict.fromkeys(
        (
            "title",
            "original_title",
            "sort_title",
            "premiered",
            "plot",
            "outline",
            "tagline",
            "mpaa",
            "status",
            "show_title",
        ),
        _text,
    ),
    **dict.fromkeys(("year", "runtime", "season", "episode"), _int),
    **dict.fromkeys(("genres", "studios", "countries", "tags", "directors", "writers"), _texts),
    "ratings": _ratings,
    "actors": _actors,
    "ids": _ids,
    "collection": _collection,
}

__all__ = [
    "FieldValue",
    "FieldValues",
    "field_names",
    "fingerprint",
    "fingerprints",
    "from_json",
    "is_empty",
    "to_json",
    "values_of",
]
