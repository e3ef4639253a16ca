"""Whole metadata values as JSON and back: what enrichment hands publishing through the
library database, and what the API shows of an item.

Each field travels as :func:`relayarr.metadata.fields.to_json` writes it; artwork as a
list of objects. Reading is strict about shapes (a stored value that no longer fits is a
ValueError) and lenient about absence (a missing field is empty).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from relayarr.jobqueue.models import JSONObject, JSONValue
from relayarr.metadata.fields import FieldValue, field_names, from_json, to_json, values_of
from relayarr.metadata.models import (
    AnyMetadata,
    Artwork,
    EpisodeMetadata,
    MovieMetadata,
    SeriesMetadata,
)

M = TypeVar("M", bound=AnyMetadata)

KINDS: dict[str, type[AnyMetadata]] = {
    "movie": MovieMetadata,
    "series": SeriesMetadata,
    "episode": EpisodeMetadata,
}


def fields_to_json(values: Mapping[str, FieldValue]) -> JSONObject:
    """Field values by name as one JSON object."""
    return {name: to_json(value) for name, value in values.items()}


def metadata_to_json(meta: AnyMetadata) -> JSONObject:
    """Every field of ``meta`` and its artwork candidates."""
    data: dict[str, JSONValue] = dict(fields_to_json(values_of(meta)))
    data["artwork"] = [cast(JSONValue, dataclasses.asdict(art)) for art in meta.artwork]
    return data


def metadata_from_json(kind: type[M], data: Mapping[str, Any]) -> M:
    """Read back :func:`metadata_to_json`; raises ValueError when a value has the wrong
    shape."""
    values: dict[str, object] = {}
    for name in field_names(cast(type[AnyMetadata], kind)):
        if name in data:
            values[name] = from_json(name, data[name])
    try:
        artwork = tuple(Artwork(**item) for item in data.get("artwork") or ())
        return kind(**values, artwork=artwork)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ValueError(f"stored {kind.__name__} has the wrong shape: {exc}") from exc


__all__ = ["KINDS", "fields_to_json", "metadata_from_json", "metadata_to_json"]
