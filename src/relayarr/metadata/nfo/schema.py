"""Which NFO elements each field becomes, and how each is read back.

One :class:`Element` spec per field: the tag Kodi reads, a writer (value -> elements) and
a reader (elements -> value). Readers are lenient (an NFO is edited by hand): a value
they cannot understand reads as absent, never as an error.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from relayarr.metadata.fields import FieldValue
from relayarr.metadata.models import Actor, Collection, IdKind, Rating, UniqueIds

Writer = Callable[[str, FieldValue], list[ET.Element]]
Reader = Callable[[Sequence[ET.Element]], FieldValue]

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 up, minus the
# surrogates and U+FFFE/U+FFFF; anything else would make the NFO unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """Text as an NFO can hold it: characters XML cannot carry removed, line ends as
    ``\n`` (an XML parser turns every ``\r`` into one, so this is what reads back), ends
    stripped."""
    return _NOT_XML.sub("", text).replace("\r\n", "\n").replace("\r", "\n").strip()


@dataclass(frozen=True, slots=True)
class Spec:
    """One field in the NFO: its element tag, writer and reader."""

    field: str
    tag: str
    write: Writer
    read: Reader


def _leaf(tag: str, text: str, **attrib: str) -> ET.Element:
    element = ET.Element(tag, attrib)
    element.text = clean(text)
    return element


def _text_of(element: ET.Element | None) -> str:
    return clean("".join(element.itertext())) if element is not None else ""


def write_text(tag: str, value: FieldValue) -> list[ET.Element]:
    text = clean(str(value)) if value is not None else ""
    return [_leaf(tag, text)] if text else []


def read_text(elements: Sequence[ET.Element]) -> FieldValue:
    return _text_of(elements[0])


def write_int(tag: str, value: FieldValue) -> list[ET.Element]:
    return [_leaf(tag, str(value))] if isinstance(value, int) else []


def read_int(elements: Sequence[ET.Element]) -> FieldValue:
    digits = re.match(r"\d+", _text_of(elements[0]))
    return int(digits.group()) if digits else None


def write_many(tag: str, value: FieldValue) -> list[ET.Element]:
    items = cast(tuple[str, ...], value or ())
    return [_leaf(tag, item) for item in items if clean(item)]


def read_many(elements: Sequence[ET.Element]) -> FieldValue:
    return tuple(dict.fromkeys(t for t in (_text_of(e) for e in elements) if t))


def write_ratings(tag: str, value: FieldValue) -> list[ET.Element]:
    ratings = cast(tuple[Rating, ...], value or ())
    if not ratings:
        return []
    outer = ET.Element(tag)
    for rating in ratings:
        attrib = {"name": clean(rating.source), "max": str(rating.max)}
        if rating.default:
            attrib["default"] = "true"
        element = ET.SubElement(outer, "rating", attrib)
        element.append(_leaf("value", _number(rating.value)))
        element.append(_leaf("votes", str(rating.votes)))
    return [outer]


def read_ratings(elements: Sequence[ET.Element]) -> FieldValue:
    found = []
    for rating in elements[0].findall("rating"):
        try:
            value = float(_text_of(rating.find("value")))
            votes = int(_text_of(rating.find("votes")) or 0)
            top = int(float(rating.get("max", "10")))
        except ValueError:
            continue
        found.append(
            Rating(
                source=clean(rating.get("name", "")),
                value=value,
                votes=votes,
                max=top,
                default=rating.get("default") == "true",
            )
        )
    return tuple(found)


def write_ids(tag: str, value: FieldValue) -> list[ET.Element]:
    ids = cast(UniqueIds, value)
    out = []
    for kind, id_value in (("tmdb", ids.tmdb), ("imdb", ids.imdb), ("tvdb", ids.tvdb)):
        if id_value is None or id_value == "":
            continue
        attrib = {"type": kind}
        if kind == ids.default:
            attrib["default"] = "true"
        out.append(_leaf(tag, str(id_value), **attrib))
    return out


def read_ids(elements: Sequence[ET.Element]) -> FieldValue:
    found: dict[str, str] = {}
    default: IdKind | None = None
    for element in elements:
        kind, text = element.get("type", ""), _text_of(element)
        if kind in ("tmdb", "imdb", "tvdb") and text and kind not in found:
            if kind != "imdb" and not text.isdigit():
                continue
            found[kind] = text
            if element.get("default") == "true":
                default = cast(IdKind, kind)
    ids = UniqueIds(
        tmdb=int(found["tmdb"]) if "tmdb" in found else None,
        imdb=found.get("imdb"),
        tvdb=int(found["tvdb"]) if "tvdb" in found else None,
    )
    return UniqueIds(ids.tmdb, ids.imdb, ids.tvdb, default) if default else ids


def write_actors(tag: str, value: FieldValue) -> list[ET.Element]:
    out = []
    for actor in cast(tuple[Actor, ...], value or ()):
        if not clean(actor.name):
            continue
        element = ET.Element(tag)
        element.append(_leaf("name", actor.name))
        if clean(actor.role):
            element.append(_leaf("role", actor.role))
        if actor.order is not None:
            element.append(_leaf("order", str(actor.order)))
        if clean(actor.thumb):
            element.append(_leaf("thumb", actor.thumb))
        out.append(element)
    return out


def read_actors(elements: Sequence[ET.Element]) -> FieldValue:
    actors = []
    for element in elements:
        name = _text_of(element.find("name"))
        if not name:
            continue
        order_text = _text_of(element.find("order"))
        actors.append(
            Actor(
                name=name,
                role=_text_of(element.find("role")),
                order=int(order_text) if order_text.isdigit() else None,
                thumb=_text_of(element.find("thumb")),
            )
        )
    return tuple(actors)


def write_set(tag: str, value: FieldValue) -> list[ET.Element]:
    collection = cast(Collection | None, value)
    if collection is None or not clean(collection.name):
        return []
    attrib = {"tmdbcolid": str(collection.tmdb_id)} if collection.tmdb_id is not None else {}
    element = ET.Element(tag, attrib)
    element.append(_leaf("name", collection.name))
    element.append(_leaf("overview", collection.overview))
    return [element]


def read_set(elements: Sequence[ET.Element]) -> FieldValue:
    element = elements[0]
    name_element = element.find("name")
    # Older NFOs write the set's name as the element's own text.
    name = _text_of(name_element) if name_element is not None else _text_of(element)
    if not name:
        return None
    colid = element.get("tmdbcolid", "")
    return Collection(
        name=name,
        overview=_text_of(element.find("overview")),
        tmdb_id=int(colid) if colid.isdigit() else None,
    )


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _spec(field: str, tag: str, kind: str) -> Spec:
    writers: dict[str, tuple[Writer, Reader]] = {
        "text": (write_text, read_text),
        "int": (write_int, read_int),
        "many": (write_many, read_many),
        "ratings": (write_ratings, read_ratings),
        "ids": (write_ids, read_ids),
        "actors": (write_actors, read_actors),
        "set": (write_set, read_set),
    }
    write, read = writers[kind]
    return Spec(field, tag, write, read)


_COMMON_HEAD = [
    ("title", "title", "text"),
    ("original_title", "originaltitle", "text"),
    ("sort_title", "sorttitle", "text"),
    ("ratings", "ratings", "ratings"),
    ("plot", "plot", "text"),
    ("outline", "outline", "text"),
    ("tagline", "tagline", "text"),
    ("runtime", "runtime", "int"),
]

MOVIE = tuple(
    _spec(*row)
    for row in [
        *_COMMON_HEAD,
        ("mpaa", "mpaa", "text"),
        ("ids", "uniqueid", "ids"),
        ("genres", "genre", "many"),
        ("countries", "country", "many"),
        ("collection", "set", "set"),
        ("tags", "tag", "many"),
        ("writers", "credits", "many"),
        ("directors", "director", "many"),
        ("premiered", "premiered", "text"),
        ("year", "year", "int"),
        ("studios", "studio", "many"),
        ("actors", "actor", "actors"),
    ]
)

SERIES = tuple(
    _spec(*row)
    for row in [
        *_COMMON_HEAD,
        ("mpaa", "mpaa", "text"),
        ("ids", "uniqueid", "ids"),
        ("genres", "genre", "many"),
        ("countries", "country", "many"),
        ("tags", "tag", "many"),
        ("writers", "credits", "many"),
        ("directors", "director", "many"),
        ("premiered", "premiered", "text"),
        ("year", "year", "int"),
        ("status", "status", "text"),
        ("studios", "studio", "many"),
        ("actors", "actor", "actors"),
    ]
)

EPISODE = tuple(
    _spec(*row)
    for row in [
        ("title", "title", "text"),
        ("show_title", "showtitle", "text"),
        ("season", "season", "int"),
        ("episode", "episode", "int"),
        ("ratings", "ratings", "ratings"),
        ("plot", "plot", "text"),
        ("runtime", "runtime", "int"),
        ("mpaa", "mpaa", "text"),
        ("ids", "uniqueid", "ids"),
        ("writers", "credits", "many"),
        ("directors", "director", "many"),
        ("premiered", "aired", "text"),
        ("year", "year", "int"),
        ("actors", "actor", "actors"),
    ]
)

__all__ = ["EPISODE", "MOVIE", "SERIES", "Spec", "clean"]
