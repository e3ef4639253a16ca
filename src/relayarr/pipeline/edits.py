"""Your edits win: set an item's fields and locks, then publish it so the NFO says so.

One verb for the API (``PATCH /api/v1/library/movies/{id}``) and the CLI (``relayarr
library lock|unlock``): :func:`edit_item`. A field given a value is locked with it; ``locks``
locks (``true``) or unlocks (``false``) fields and artwork types explicitly. A locked field
is never replaced by a provider again, by a re-enrichment or an upgrade alike, until it is
unlocked. A lock without a value keeps what the NFO holds.

>>> await edit_item(ctx, ItemKind.MOVIE, 412, ItemEdit({"title": "Arrival (Director's Cut)"}))
... # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from relayarr.errors import EditInvalid, FieldError, ItemNotFound
from relayarr.jobqueue import JobQueue, JSONObject, JSONValue
from relayarr.library.db.metastore import ItemState, movie_ref, series_ref
from relayarr.library.db.records import ItemDetail, ItemKind
from relayarr.metadata.codec import KINDS, fields_to_json
from relayarr.metadata.fields import FieldValue, field_names, from_json
from relayarr.metadata.merge import FieldLocks
from relayarr.metadata.publish.names import ALL_ART_KINDS
from relayarr.pipeline.context import Library, Metadata
from relayarr.pipeline.enrich import publish_spec
from relayarr.pipeline.metajob import MetadataJob, MetadataReason


@dataclass(frozen=True, slots=True)
class ItemEdit:
    """Field values to set (and lock), and locks to set or clear, by field name."""

    fields: Mapping[str, JSONValue] = field(default_factory=dict)
    locks: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EditResult:
    """The item's metadata after an edit, and the publish job that writes it (None when
    ``[metadata]`` is not configured: the locks are kept for when it is)."""

    kind: ItemKind
    item_id: int
    state: ItemState
    publish_job: int | None

    def to_json(self) -> JSONObject:
        return {"id": self.item_id, **metadata_json(self.state), "publish_job": self.publish_job}


def lockable(kind: ItemKind) -> frozenset[str]:
    """Names that may be locked for an item of ``kind``: its fields and the artwork types."""
    return frozenset(field_names(KINDS[kind.value])) | frozenset(ALL_ART_KINDS)


def apply_edit(kind: ItemKind, current: FieldLocks, edit: ItemEdit) -> FieldLocks:
    """``current`` with ``edit`` applied; :class:`EditInvalid` names every unknown name,
    badly shaped value, and field both given a value and unlocked."""
    values = field_names(KINDS[kind.value])
    allowed = lockable(kind)
    errors: list[FieldError] = []
    decoded: dict[str, FieldValue] = {}
    for name, raw in edit.fields.items():
        if name not in values:
            known = "an artwork type: lock it instead" if name in allowed else "unknown field"
            errors.append(FieldError(f"fields.{name}", known))
            continue
        try:
            value = from_json(name, raw)
        except ValueError:
            value = None
            fits = False
        else:
            fits = _fits(raw, value)
        if fits:
            decoded[name] = value
        else:
            errors.append(FieldError(f"fields.{name}", f"not a valid {name} value"))
    for name, locked in edit.locks.items():
        if name not in allowed:
            errors.append(FieldError(f"locks.{name}", "unknown field"))
        elif not locked and name in edit.fields:
            errors.append(FieldError(f"locks.{name}", "given a value in fields and unlocked"))
    if errors:
        raise EditInvalid(errors)
    fields = set(current.fields)
    kept: dict[str, FieldValue] = dict(current.values)
    for name, locked in edit.locks.items():
        if locked:
            fields.add(name)
        else:
            fields.discard(name)
            kept.pop(name, None)
    fields.update(decoded)
    kept.update(decoded)
    return FieldLocks(frozenset(fields), kept)


async def edit_item(
    queue: JobQueue,
    library: Library,
    metadata: Metadata | None,
    kind: ItemKind,
    item_id: int,
    edit: ItemEdit,
) -> EditResult:
    """Apply ``edit`` to the item and enqueue its publish; :class:`ItemNotFound` for an
    unknown id, :class:`EditInvalid` for a bad edit (nothing is changed then)."""
    detail = await _detail(library, kind, item_id)
    store = library.store.metadata
    ref = movie_ref(item_id) if kind is ItemKind.MOVIE else series_ref(item_id)
    locks = apply_edit(kind, await store.get_locks(ref), edit)
    await store.set_locks(ref, locks)
    job_id = None
    if metadata is not None:
        job = MetadataJob(
            kind=kind,
            item_id=item_id,
            folder=detail.item.folder,
            reason=MetadataReason.EDIT,
            video=_main_video(detail),
            refresh=True,
        )
        spec = publish_spec(job)
        added = await queue.add_job(spec.type, spec.payload, max_attempts=spec.max_attempts)
        job_id = added.id
    return EditResult(kind, item_id, await store.state(ref), job_id)


async def item_metadata(library: Library, kind: ItemKind, item_id: int) -> JSONObject:
    """What the item detail shows of its metadata (see :func:`metadata_json`)."""
    store = library.store.metadata
    ref = movie_ref(item_id) if kind is ItemKind.MOVIE else series_ref(item_id)
    return metadata_json(await store.state(ref))


def metadata_json(state: ItemState) -> JSONObject:
    """``fields``: the values last published, with the locked values the user set since;
    ``locks``: the locked names; and when the item was last enriched and published."""
    fields: dict[str, JSONValue] = dict(state.published or {})
    fields.update(fields_to_json(state.locks.values))
    locks: list[JSONValue] = [*sorted(state.locks.fields)]
    return {
        "fields": fields,
        "locks": locks,
        "enriched_at": _stamp(state.provided_at),
        "published_at": _stamp(state.published_at),
    }


async def _detail(library: Library, kind: ItemKind, item_id: int) -> ItemDetail:
    if kind is ItemKind.MOVIE:
        detail = await library.store.get_movie(item_id)
    else:
        detail = await library.store.get_series(item_id)
    if detail is None:
        raise ItemNotFound(f"no {kind.value} with id {item_id}")
    return detail


def _main_video(detail: ItemDetail) -> str | None:
    """A movie's main video, relative to its folder (None for a series)."""
    prefix = detail.item.folder.rstrip("/") + "/"
    for file in detail.files:
        if file.role == "video" and file.path.startswith(prefix):
            return file.path[len(prefix) :]
    return None


def _fits(raw: JSONValue, value: FieldValue) -> bool:
    """Whether the JSON given has the shape of the field (the decoders are lenient: they
    read back what relayarr stored, and would take ``"Drama"`` for six genres)."""
    if raw is None:
        return True
    if isinstance(value, str):
        return isinstance(raw, str)
    if isinstance(value, int):
        return isinstance(raw, int) and not isinstance(raw, bool)
    if isinstance(value, tuple):
        items = [isinstance(item, str) for item in value]
        wanted = str if all(items) else dict
        return isinstance(raw, list) and all(isinstance(item, wanted) for item in raw)
    return dataclasses.is_dataclass(value) and isinstance(raw, dict)


def _stamp(value: datetime | None) -> JSONValue:
    return value.isoformat() if value is not None else None


__all__ = [
    "EditResult",
    "ItemEdit",
    "apply_edit",
    "edit_item",
    "item_metadata",
    "lockable",
    "metadata_json",
]
