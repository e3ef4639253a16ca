"""Editing an item's metadata from its page: the form, what changed, and the save.

The metadata service owns fields and locks (:func:`relayarr.pipeline.edits.edit_item`,
behind ``PATCH /api/v1/library/{movies|series}/{id}`` with the body
``{"fields": {"title": "..."}, "locks": {"title": true, "poster": false}}``: a field set
there becomes locked; ``locks`` sets or clears locks explicitly). The dashboard keeps no
second implementation of that: the item page shows the form once the item has published
fields (until then it says that editing needs metadata), and the page's save hands what
changed to that same verb, after its own session and CSRF checks.

Only what the person changed is sent: a field whose text is unchanged is not set again
(setting it would lock it), and only locks whose box was flipped are named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from starlette.datastructures import FormData

from relayarr.jobqueue import JSONObject, JSONValue

FieldKind = Literal["text", "long", "number"]
LONG_FIELDS = frozenset({"plot", "overview", "outline", "tagline", "biography"})
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 64
MAX_VALUE = 20_000


@dataclass(frozen=True, slots=True)
class EditField:
    """One editable field as the form shows it."""

    name: str
    value: str
    kind: FieldKind
    locked: bool


@dataclass(frozen=True, slots=True)
class EditForm:
    """The form for one item: editable fields, fields shown read-only (lists, objects),
    and the locks that have no editable field (artwork: ``poster``, ``fanart``)."""

    fields: tuple[EditField, ...]
    readonly: tuple[tuple[str, str, bool], ...]
    other_locks: tuple[tuple[str, bool], ...]


def edit_form(document: Mapping[str, JSONValue]) -> EditForm | None:
    """The form for an item detail document, or None when it has no ``fields`` yet."""
    fields = document.get("fields")
    if not isinstance(fields, dict):
        return None
    raw_locks = document.get("locks")
    locks = {
        name: value is True
        for name, value in (raw_locks.items() if isinstance(raw_locks, dict) else ())
        if NAME.match(name)
    }
    editable: list[EditField] = []
    readonly: list[tuple[str, str, bool]] = []
    for name, value in fields.items():
        if not NAME.match(name):
            continue
        locked = locks.get(name, False)
        if isinstance(value, int) and not isinstance(value, bool):
            editable.append(EditField(name, str(value), "number", locked))
        elif value is None or isinstance(value, str):
            text = value or ""
            long = name in LONG_FIELDS or len(text) > 120 or "\n" in text
            editable.append(EditField(name, text, "long" if long else "text", locked))
        else:
            readonly.append((name, json.dumps(value, ensure_ascii=False), locked))
    others = tuple((name, locked) for name, locked in locks.items() if name not in fields)
    return EditForm(tuple(editable), tuple(readonly), others)


class EditRefused(ValueError):
    """The submitted form cannot be turned into a change (say, a year that is not a number)."""


def changes(form: FormData) -> JSONObject:
    """The PATCH body for what the submitted form changed (``fields`` and ``locks``, each
    left out when empty). The form carries, per field, ``f:NAME`` (the text), ``was:NAME``
    (the text shown), ``type:NAME``; per lock, ``waslock:NAME`` (``1``/``0``) and
    ``lock:NAME`` when ticked. Raises :class:`EditRefused`."""
    fields: dict[str, JSONValue] = {}
    locks: dict[str, JSONValue] = {}
    names = [key[4:] for key in form if key.startswith("was:")]
    lockable = [key[8:] for key in form if key.startswith("waslock:")]
    if len(names) > MAX_FIELDS or len(lockable) > MAX_FIELDS:
        raise EditRefused("too many fields")
    for name in names:
        if not NAME.match(name):
            raise EditRefused(f"{name[:40]!r} is not a field name")
        value, was = _text(form, f"f:{name}"), _text(form, f"was:{name}")
        if len(value) > MAX_VALUE:
            raise EditRefused(f"{name} is longer than {MAX_VALUE} characters")
        if value.replace("\r\n", "\n") == was.replace("\r\n", "\n"):
            continue
        fields[name] = _typed(name, value.replace("\r\n", "\n"), _text(form, f"type:{name}"))
    for name in lockable:
        if not NAME.match(name):
            raise EditRefused(f"{name[:40]!r} is not a lock name")
        ticked = f"lock:{name}" in form
        if ticked != (_text(form, f"waslock:{name}") == "1"):
            locks[name] = ticked
    body: JSONObject = {}
    if fields:
        body["fields"] = fields
    if locks:
        body["locks"] = locks
    return body


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _typed(name: str, value: str, kind: str) -> JSONValue:
    if kind != "number":
        return value
    if not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise EditRefused(f"{name} must be a whole number, not {value[:20]!r}") from None


def saved_line(body: JSONObject, answer: JSONObject) -> str:
    """What the page says after a save: the fields set, and every lock the item has now."""
    fields = body.get("fields")
    changed = ", ".join(fields) if isinstance(fields, dict) else ""
    locks = answer.get("locks")
    locked = (
        sorted(name for name in locks if isinstance(name, str)) if isinstance(locks, list) else []
    )
    line = f"Saved {changed}." if changed else "Locks saved."
    return line + (f" Locked: {', '.join(locked)}." if locked else " Nothing is locked.")


__all__ = ["EditField", "EditForm", "EditRefused", "changes", "edit_form", "saved_line"]
