"""Kodi NFO files: read one safely, write one that keeps what relayarr does not manage.

Reading uses ``defusedxml`` (an NFO is untrusted input: no DTDs, no entities, no external
references). What the reader accepts:

- a metadata NFO: one XML document whose root is ``movie``, ``tvshow`` or
  ``episodedetails``;
- a combination NFO: the same, followed by a provider URL line, which is kept on write.

Anything else (a URL-only "parsing" NFO, broken XML, a multi-episode file with two
roots, the wrong root) raises :class:`NfoMalformed` and the caller leaves the file alone:
it may be a hand edit half done, or another tool's format, and overwriting it would lose
that work for good. The error says what to fix.

Writing replaces the managed elements at the place of their first occurrence (later
duplicates are dropped), keeps every other element, comment and attribute where it was
(watched state, play counts, ``fileinfo``, other tools' tags), appends managed elements
the file did not have, and indents with two spaces. Output is UTF-8 with an XML
declaration; non-ASCII text is written as is, not as character references.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from relayarr.errors import NfoMalformed
from relayarr.metadata.fields import FieldValue, FieldValues
from relayarr.metadata.models import AnyMetadata, EpisodeMetadata, MovieMetadata, SeriesMetadata
from relayarr.metadata.nfo.schema import EPISODE, MOVIE, SERIES, Spec, clean

DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
ROOTS: dict[type[AnyMetadata], str] = {
    MovieMetadata: "movie",
    SeriesMetadata: "tvshow",
    EpisodeMetadata: "episodedetails",
}
SPECS: dict[type[AnyMetadata], tuple[Spec, ...]] = {
    MovieMetadata: MOVIE,
    SeriesMetadata: SERIES,
    EpisodeMetadata: EPISODE,
}
# Artwork URLs go right after <runtime>, where Kodi's own templates put them.
_ART_AFTER = "runtime"
_EPISODE_ART_AFTER = "plot"
_CLOSING = re.compile(rb"</(movie|tvshow|episodedetails)\s*>")


@dataclass(frozen=True, slots=True)
class NfoDocument:
    """A parsed NFO: its root element and the URL line a combination NFO ends with."""

    root: ET.Element
    trailer: str = ""


def parse_nfo(data: bytes, path: str, kind: type[AnyMetadata]) -> NfoDocument:
    """Parse NFO bytes of ``kind``; raise :class:`NfoMalformed` naming ``path`` and why."""
    if b"<" not in data:
        raise NfoMalformed(
            path,
            "a URL-only (parsing) NFO, not metadata; left as is (replace it with an XML "
            "NFO or delete it to let relayarr write one)",
        )
    body, trailer = _split_trailer(data)
    root = _parse_xml(body, path)
    expected = ROOTS[kind]
    if root.tag != expected:
        raise NfoMalformed(path, f"root element is <{root.tag}>, expected <{expected}>; left as is")
    return NfoDocument(root, trailer)


def read_values(document: NfoDocument, kind: type[AnyMetadata]) -> dict[str, FieldValue]:
    """The managed fields the NFO holds (a field without its element is absent)."""
    values: dict[str, FieldValue] = {}
    for spec in SPECS[kind]:
        elements = document.root.findall(spec.tag)
        if elements:
            values[spec.field] = spec.read(elements)
    return values


def render_nfo(
    kind: type[AnyMetadata],
    values: FieldValues,
    art: Mapping[str, str],
    existing: NfoDocument | None = None,
) -> bytes:
    """The NFO bytes for ``values`` (and artwork URLs by type), over ``existing`` if any."""
    fresh = _managed_elements(kind, values, art)
    if existing is None:
        root = ET.Element(ROOTS[kind])
        for elements in fresh.values():
            root.extend(elements)
        trailer = ""
    else:
        root = _over(existing.root, fresh)
        trailer = existing.trailer
    ET.indent(root, space="  ")
    text = DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
    if trailer:
        text += trailer + "\n"
    return text.encode("utf-8")


def _managed_elements(
    kind: type[AnyMetadata], values: FieldValues, art: Mapping[str, str]
) -> dict[str, list[ET.Element]]:
    """Fresh elements by tag, in Kodi's order (a dict keeps it)."""
    out: dict[str, list[ET.Element]] = {}
    for spec in SPECS[kind]:
        out.setdefault(spec.tag, []).extend(spec.write(spec.tag, values.get(spec.field)))
        if spec.tag == (_EPISODE_ART_AFTER if kind is EpisodeMetadata else _ART_AFTER):
            out.update(_art_elements(kind, art))
    return out


def _art_elements(kind: type[AnyMetadata], art: Mapping[str, str]) -> dict[str, list[ET.Element]]:
    thumbs: list[ET.Element] = []
    fanart: list[ET.Element] = []
    for art_kind, url in art.items():
        if not clean(url):
            continue
        if art_kind == "fanart":
            outer = ET.Element("fanart")
            ET.SubElement(outer, "thumb").text = clean(url)
            fanart.append(outer)
        elif kind is EpisodeMetadata:
            thumb = ET.Element("thumb")
            thumb.text = clean(url)
            thumbs.append(thumb)
        else:
            thumb = ET.Element("thumb", {"aspect": art_kind})
            thumb.text = clean(url)
            thumbs.append(thumb)
    return {"thumb": thumbs, "fanart": fanart}


def _over(old: ET.Element, fresh: dict[str, list[ET.Element]]) -> ET.Element:
    root = ET.Element(old.tag, old.attrib)
    root.text = old.text
    placed: set[str] = set()
    for child in old:
        tag = child.tag
        if isinstance(tag, str) and tag in fresh:
            if tag not in placed:
                placed.add(tag)
                root.extend(fresh[tag])
            continue
        root.append(child)
    for tag, elements in fresh.items():
        if tag not in placed:
            root.extend(elements)
    return root


def _split_trailer(data: bytes) -> tuple[bytes, str]:
    """Split a combination NFO's URL line off the XML (nothing to split: ``""``)."""
    closings = list(_CLOSING.finditer(data))
    if not closings:
        return data, ""
    end = closings[-1].end()
    rest = data[end:].decode("utf-8", errors="replace").strip()
    return data[:end], clean(rest)


def _parse_xml(body: bytes, path: str) -> ET.Element:
    # Comments are kept (insert_comments) so a rewrite does not drop a user's notes.
    parser = DefusedXMLParser(
        target=ET.TreeBuilder(insert_comments=True),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(body)
        root: ET.Element = parser.close()
    except ET.ParseError as exc:
        raise NfoMalformed(path, f"not well-formed XML ({exc}); left as is") from None
    except DefusedXmlException as exc:
        raise NfoMalformed(
            path, f"uses a DTD or entities, refused as unsafe ({type(exc).__name__}); left as is"
        ) from None
    except (ValueError, LookupError) as exc:  # an unknown encoding in the declaration
        raise NfoMalformed(path, f"cannot be decoded ({exc}); left as is") from None
    return root


def kind_values(meta: AnyMetadata) -> dict[str, FieldValue]:
    """The NFO fields of ``meta`` (every spec'd field, by name)."""
    return {spec.field: getattr(meta, spec.field) for spec in SPECS[type(meta)]}


def spec_fields(kind: type[AnyMetadata]) -> Sequence[str]:
    return tuple(spec.field for spec in SPECS[kind])


__all__ = [
    "DECLARATION",
    "NfoDocument",
    "kind_values",
    "parse_nfo",
    "read_values",
    "render_nfo",
    "spec_fields",
]
