"""Choosing one image of a type among the candidates of every source.

Order of preference: language first (the configured one, then English, then textless,
then any other; for ``fanart`` backgrounds textless comes first, text on a background
hides what it shows), then the source (fanart.tv for the types it specialises in, TMDB
for posters and backgrounds, the webhook's URLs last: they are usually the same TMDB
image), then the source's own score.
"""

from __future__ import annotations

from collections.abc import Iterable

from relayarr.metadata.models import Artwork

# Types fanart.tv is the better source for; TMDB leads for the rest.
_FANART_FIRST = frozenset({"clearlogo", "clearart", "discart", "banner", "landscape"})
_TEXTLESS_FIRST = frozenset({"fanart"})


def pick(candidates: Iterable[Artwork], kind: str, language: str) -> Artwork | None:
    """The best ``kind`` image for ``language`` (``en-US`` or ``en``), or None."""
    code = language.partition("-")[0]
    matching = [a for a in candidates if a.kind == kind]
    if not matching:
        return None
    return min(
        matching,
        key=lambda a: (_language_rank(a, kind, code), _source_rank(a, kind), -a.score, -a.width),
    )


def _language_rank(art: Artwork, kind: str, code: str) -> int:
    lang = art.language
    order = [None, code, "en"] if kind in _TEXTLESS_FIRST else [code, "en", None]
    return order.index(lang) if lang in order else len(order)


def _source_rank(art: Artwork, kind: str) -> int:
    if art.source == "webhook":
        return 2
    fanart_first = kind in _FANART_FIRST
    return 0 if (art.source == "fanart.tv") == fanart_first else 1


__all__ = ["pick"]
