"""Kodi NFO files, read with ``defusedxml`` (they are untrusted XML).

>>> nfo = parse_nfo(b'<movie><title>Arrival</title><year>2016</year>'
...                 b'<uniqueid type="tmdb" default="true">329865</uniqueid></movie>')
>>> nfo.main.title, nfo.main.year, nfo.main.unique_id("tmdb")
('Arrival', 2016, '329865')

Kodi's three kinds are read: metadata (XML), parsing (just a provider URL) and combination
(XML, then a URL after the closing tag); and episode NFOs of multi-episode files, which
hold several ``<episodedetails>`` documents one after the other. Anything else raises
:class:`NfoError` with the parser's reason and position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_NFO_BYTES = 4 * 1024 * 1024  # a real NFO is a few KiB; this only stops a runaway file

_DECLARATION = re.compile(rb"<\?xml[^>]*\?>")
_URL = re.compile(r"https?://\S+")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Emby/Jellyfin-style id tags, read when no <uniqueid> of that type is given.
_LEGACY_IDS = {"imdbid": "imdb", "tmdbid": "tmdb", "tvdbid": "tvdb"}


class NfoError(ValueError):
    """An NFO that cannot be read as Kodi reads it; the message says why and where."""


@dataclass(frozen=True, slots=True)
class UniqueId:
    """One ``<uniqueid type="tmdb" default="true">329865</uniqueid>``."""

    type: str
    value: str
    default: bool


@dataclass(frozen=True, slots=True)
class NfoDocument:
    """The fields relayarr reads from one ``<movie>``, ``<tvshow>`` or ``<episodedetails>``."""

    kind: str
    title: str | None = None
    original_title: str | None = None
    year: int | None = None
    premiered: str | None = None
    plot: str | None = None
    unique_ids: tuple[UniqueId, ...] = ()
    season: int | None = None
    episode: int | None = None

    def unique_id(self, kind: str) -> str | None:
        """The id of one provider (``tmdb``, ``imdb``, ``tvdb``), if given."""
        for unique in self.unique_ids:
            if unique.type == kind:
                return unique.value
        return None


@dataclass(frozen=True, slots=True)
class Nfo:
    """A parsed NFO: its documents (several only for a multi-episode file) and the
    provider URL of a parsing or combination NFO."""

    documents: tuple[NfoDocument, ...]
    url: str | None = None

    @property
    def main(self) -> NfoDocument:
        """The first document (an empty one for a URL-only NFO)."""
        return self.documents[0] if self.documents else NfoDocument(kind="url")


def parse_nfo(data: bytes) -> Nfo:
    """Read an NFO's bytes; raises :class:`NfoError` for anything Kodi could not read."""
    if len(data) > MAX_NFO_BYTES:
        raise NfoError(f"larger than {MAX_NFO_BYTES // (1024 * 1024)} MiB")
    if not data.strip():
        raise NfoError("empty file")
    try:
        return Nfo((_document(fromstring(data)),))
    except DefusedXmlException as exc:
        raise NfoError(f"refused unsafe XML: {exc}") from None
    except ParseError as first:
        problem = first
    # Not one XML document: a URL-only NFO, XML followed by a URL, or several documents.
    # Each is read as Kodi does by wrapping the text in one element.
    body = _DECLARATION.sub(b"", data.removeprefix(b"\xef\xbb\xbf"))
    if b"<" not in body:
        return _url_only(body, problem)
    # A URL after the last tag may hold characters XML refuses (&): read it apart.
    head, bracket, tail = body.rpartition(b">")
    try:
        wrapper = fromstring(b"<nfo>" + head + bracket + b"</nfo>")
    except DefusedXmlException as exc:
        raise NfoError(f"refused unsafe XML: {exc}") from None
    except ParseError:
        raise NfoError(f"not valid XML: {problem}") from None
    documents = tuple(_document(child) for child in wrapper)
    if not documents:
        raise NfoError(f"not valid XML: {problem}")
    loose = [wrapper.text, *(child.tail for child in wrapper), tail.decode("utf-8", "replace")]
    url = _URL.search(" ".join(filter(None, loose)))
    return Nfo(documents, url.group(0) if url else None)


def _url_only(body: bytes, problem: ParseError) -> Nfo:
    text = body.decode("utf-8", "replace")
    url = _URL.search(text)
    if url is None:
        raise NfoError(f"neither XML nor a provider URL: {problem}")
    return Nfo((), url.group(0))


def _document(root: Element) -> NfoDocument:
    unique_ids = [
        UniqueId(
            type=(node.get("type") or "unknown").strip().lower(),
            value=(node.text or "").strip(),
            default=(node.get("default") or "").strip().lower() == "true",
        )
        for node in root.findall("uniqueid")
        if (node.text or "").strip()
    ]
    given = {unique.type for unique in unique_ids}
    for tag, kind in _LEGACY_IDS.items():
        value = _text(root, tag)
        if value and kind not in given:
            unique_ids.append(UniqueId(kind, value, default=False))
    premiered = _text(root, "premiered") or _text(root, "aired")
    if premiered is not None and not _DATE.match(premiered):
        premiered = None
    year = _number(root, "year")
    if year is None and premiered is not None:
        year = int(premiered[:4])
    return NfoDocument(
        kind=root.tag,
        title=_text(root, "title"),
        original_title=_text(root, "originaltitle"),
        year=year,
        premiered=premiered,
        plot=_text(root, "plot"),
        unique_ids=tuple(unique_ids),
        season=_number(root, "season"),
        episode=_number(root, "episode"),
    )


def _text(root: Element, tag: str) -> str | None:
    node = root.find(tag)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def _number(root: Element, tag: str) -> int | None:
    text = _text(root, tag)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None  # Kodi ignores a field it cannot read; so does relayarr


__all__ = ["MAX_NFO_BYTES", "Nfo", "NfoDocument", "NfoError", "UniqueId", "parse_nfo"]
