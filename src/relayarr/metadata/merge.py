"""Merge with locks: provider + webhook + the existing NFO + field locks -> what to publish.

Pure: no I/O, no clock. The rules, field by field:

1. A field the user edited by hand in the NFO since relayarr last wrote it (its value no
   longer matches the fingerprint relayarr recorded) becomes locked, with the NFO's value.
2. A locked field keeps the user's value: a hand edit just detected, else the value set
   through the API, else what the NFO holds; it is never replaced by a provider.
3. Any other field takes the first non-empty of: provider, webhook, existing NFO.
   Ids are combined (each id from the first source that has it).

Without a record of what relayarr last wrote (an NFO written by Radarr, Kodi or by hand
before relayarr managed the item) nothing can be told apart, so no field is locked by
detection; the NFO still fills what the providers lack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

from relayarr.metadata.fields import (
    FieldValue,
    FieldValues,
    field_names,
    fingerprint,
    is_empty,
)
from relayarr.metadata.models import AnyMetadata, Artwork, UniqueIds

M = TypeVar("M", bound=AnyMetadata)


@dataclass(frozen=True, slots=True)
class FieldLocks:
    """The locked fields of one item, and the values the user set for some of them.

    A lock without a value (locked from the CLI, or the value lives in the NFO) keeps
    whatever the NFO holds.
    """

    fields: frozenset[str] = frozenset()
    values: Mapping[str, FieldValue] = field(default_factory=dict)

    def with_edits(self, edits: FieldValues) -> FieldLocks:
        """These locks plus the hand edits, whose values replace earlier ones."""
        if not edits:
            return self
        return FieldLocks(self.fields | edits.keys(), {**self.values, **edits})


@dataclass(frozen=True, slots=True)
class MergeResult(Generic[M]):
    """The metadata to publish, the locks after this merge, and where each field came
    from (``edited``, ``user``, ``nfo``, ``locked``, ``provider``, ``webhook``, ``none``)."""

    metadata: M
    locks: FieldLocks
    edited: frozenset[str]
    sources: Mapping[str, str]


def detect_edits(
    names: tuple[str, ...],
    nfo: FieldValues,
    last_written: Mapping[str, str] | None,
    empty: AnyMetadata | None = None,
) -> dict[str, FieldValue]:
    """Fields whose NFO value differs from what relayarr recorded writing, with the value.

    A field missing from the NFO counts as empty (``empty``'s value, else None), so
    deleting an element is an edit too.
    """
    if last_written is None:
        return {}
    edited: dict[str, FieldValue] = {}
    for name in names:
        written = last_written.get(name)
        if written is None:
            continue
        value = nfo[name] if name in nfo else getattr(empty, name, None)
        if fingerprint(value) != written:
            edited[name] = value
    return edited


def merge(
    kind: type[M],
    *,
    provider: M | None = None,
    webhook: M | None = None,
    nfo: FieldValues | None = None,
    locks: FieldLocks | None = None,
    last_written: Mapping[str, str] | None = None,
) -> MergeResult[M]:
    """Combine the sources into the metadata to publish (see the module docstring)."""
    names = field_names(cast(type[AnyMetadata], kind))
    nfo = nfo or {}
    empty = kind()
    edits = detect_edits(names, nfo, last_written, empty)
    final_locks = (locks or FieldLocks()).with_edits(edits)
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for name in names:
        value, source = _pick(name, empty, provider, webhook, nfo, final_locks, edits)
        values[name] = value
        sources[name] = source
    artwork = _artwork(provider, webhook)
    metadata = kind(**values, artwork=artwork)  # type: ignore[arg-type]
    return MergeResult(metadata, final_locks, frozenset(edits), sources)


def _pick(
    name: str,
    empty: AnyMetadata,
    provider: AnyMetadata | None,
    webhook: AnyMetadata | None,
    nfo: FieldValues,
    locks: FieldLocks,
    edits: FieldValues,
) -> tuple[object, str]:
    if name in locks.fields:
        if name in edits:
            return edits[name], "edited"
        if name in locks.values:
            return locks.values[name], "user"
        if name in nfo:
            return nfo[name], "nfo"
        return getattr(empty, name), "locked"
    if name == "ids":
        origin = "provider" if provider else "webhook" if webhook else "nfo"
        return _ids(empty.ids, provider, webhook, nfo), origin
    for source, meta in (("provider", provider), ("webhook", webhook)):
        if meta is not None and not is_empty(getattr(meta, name)):
            return getattr(meta, name), source
    if not is_empty(nfo.get(name)):
        return nfo[name], "nfo"
    return getattr(empty, name), "none"


def _ids(
    none: UniqueIds, provider: AnyMetadata | None, webhook: AnyMetadata | None, nfo: FieldValues
) -> UniqueIds:
    found = [m.ids for m in (provider, webhook) if m is not None]
    nfo_ids = nfo.get("ids")
    if isinstance(nfo_ids, UniqueIds):
        found.append(nfo_ids)
    if not found:
        return none
    ids = found[0]
    for other in found[1:]:
        ids = ids.merged(other)
    return ids


def _artwork(provider: AnyMetadata | None, webhook: AnyMetadata | None) -> tuple[Artwork, ...]:
    seen: dict[str, Artwork] = {}
    for meta in (provider, webhook):
        for art in meta.artwork if meta is not None else ():
            seen.setdefault(art.url, art)
    return tuple(seen.values())


def locked_values(result: MergeResult[M]) -> FieldValues:
    """The values of the locked fields after a merge: what a lock store should keep."""
    return {name: cast(FieldValue, getattr(result.metadata, name)) for name in result.locks.fields}


__all__ = ["FieldLocks", "MergeResult", "detect_edits", "locked_values", "merge"]
