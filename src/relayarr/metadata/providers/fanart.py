"""fanart.tv v3: logos, clear art, disc art, banners and landscapes for movies and shows.

``GET /movies/{tmdb or imdb id}`` and ``GET /tv/{tvdb id}``, with the project key as
``api_key`` and a user's personal key as ``client_key``. Each image is
``{"id", "url", "lang", "likes"}`` (``lang`` ``"00"`` means textless, ``likes`` a
string). HD variants are taken first; the older low-resolution ones only when a type
has no HD image at all.
"""

from __future__ import annotations

from relayarr.jobqueue.models import JSONObject
from relayarr.metadata.models import Artwork
from relayarr.metadata.providers.http import ProviderHttp
from relayarr.metadata.providers.json import number, objects, text

NAME = "fanart.tv"

# artwork type -> fanart.tv keys, best first (HD, then the low-resolution fallback).
MOVIE_KEYS: dict[str, tuple[str, ...]] = {
    "clearlogo": ("hdmovielogo", "movielogo"),
    "clearart": ("hdmovieclearart", "movieart"),
    "discart": ("moviedisc",),
    "banner": ("moviebanner",),
    "landscape": ("moviethumb",),
    "fanart": ("moviebackground",),
    "poster": ("movieposter",),
}
TV_KEYS: dict[str, tuple[str, ...]] = {
    "clearlogo": ("hdtvlogo", "clearlogo"),
    "clearart": ("hdclearart", "clearart"),
    "banner": ("tvbanner",),
    "landscape": ("tvthumb",),
    "fanart": ("showbackground",),
    "poster": ("tvposter",),
}


class FanartProvider:
    """Artwork from fanart.tv. Methods raise :class:`~relayarr.errors.ProviderError`; a
    404 (:class:`~relayarr.errors.ProviderNotFound`) means fanart.tv has no art for it."""

    name = NAME

    def __init__(self, http: ProviderHttp) -> None:
        self._http = http

    async def movie(self, movie_id: int | str) -> tuple[Artwork, ...]:
        """Artwork of a movie by TMDB id or imdb id."""
        data = await self._http.get_json(f"movies/{movie_id}", {}, subject=f"movie {movie_id}")
        return parse(data, MOVIE_KEYS)

    async def series(self, tvdb_id: int) -> tuple[Artwork, ...]:
        data = await self._http.get_json(f"tv/{tvdb_id}", {}, subject=f"series {tvdb_id}")
        return parse(data, TV_KEYS)


def parse(data: JSONObject, keys: dict[str, tuple[str, ...]]) -> tuple[Artwork, ...]:
    """Artwork candidates of one answer, by the type table ``keys``."""
    found: list[Artwork] = []
    for kind, variants in keys.items():
        for key in variants:
            images = [i for i in objects(data, key) if text(i, "url").startswith("http")]
            if images:
                found.extend(_artwork(kind, image) for image in images)
                break  # a better variant had images: skip the low-resolution ones
    return tuple(found)


def _artwork(kind: str, image: JSONObject) -> Artwork:
    lang = text(image, "lang")
    url = text(image, "url")
    return Artwork(
        kind=kind,
        url=url,
        language=None if lang in ("", "00") else lang,
        score=number(image, "likes"),
        source=NAME,
        preview=url.replace("/fanart/", "/preview/", 1),
    )


__all__ = ["MOVIE_KEYS", "NAME", "TV_KEYS", "FanartProvider", "parse"]
