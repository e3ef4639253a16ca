"""TMDB v3: movie and TV details, seasons, episodes, and ``/find`` by imdb or tvdb id.

Authentication: a v3 API key goes as the ``api_key`` query parameter; a v4 read access
token (a JWT, ``eyJ...``) as ``Authorization: Bearer``. Both work on every v3 endpoint.
Details are one request each, with everything Kodi needs appended
(``append_to_response``) and images in the configured language, English and textless
(``include_image_language``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from relayarr.jobqueue.models import JSONObject
from relayarr.metadata.models import EpisodeMetadata, MovieMetadata, SeriesMetadata
from relayarr.metadata.providers import tmdb_parse
from relayarr.metadata.providers.http import Params, ProviderHttp
from relayarr.metadata.providers.json import integer, objects

NAME = "tmdb"
_MOVIE_APPEND = "release_dates,credits,images,external_ids,translations"
_TV_APPEND = "content_ratings,credits,images,external_ids,translations"
_EPISODE_APPEND = "credits,external_ids,images,translations"

ExternalSource = Literal["imdb_id", "tvdb_id"]


def auth_for(key: str) -> tuple[dict[str, str | int], dict[str, str]]:
    """(query parameters, headers) that carry a TMDB v3 key or v4 token."""
    if key.startswith("eyJ"):
        return {}, {"Authorization": f"Bearer {key}"}
    return {"api_key": key}, {}


@dataclass(frozen=True, slots=True)
class FindResult:
    """TMDB ids ``/find`` matched to an external id, by kind."""

    movies: tuple[int, ...] = ()
    series: tuple[int, ...] = ()


class TmdbProvider:
    """Metadata from TMDB. Every method raises :class:`~relayarr.errors.ProviderError`."""

    name = NAME

    def __init__(self, http: ProviderHttp, *, language: str, image_base: str) -> None:
        self._http = http
        self._language = tmdb_parse.Language.parse(language)
        self._language_tag = language
        self._image_base = image_base if image_base.endswith("/") else image_base + "/"

    def _params(self, append: str) -> Params:
        images = ",".join(dict.fromkeys((self._language.code, "en", "null")))
        return {
            "language": self._language_tag,
            "append_to_response": append,
            "include_image_language": images,
        }

    async def movie(self, tmdb_id: int) -> MovieMetadata:
        data = await self._http.get_json(
            f"movie/{tmdb_id}", self._params(_MOVIE_APPEND), subject=f"movie {tmdb_id}"
        )
        return tmdb_parse.movie(data, self._language, self._image_base)

    async def series(self, tmdb_id: int) -> SeriesMetadata:
        data = await self._http.get_json(
            f"tv/{tmdb_id}", self._params(_TV_APPEND), subject=f"series {tmdb_id}"
        )
        return tmdb_parse.series(data, self._language, self._image_base)

    async def episode(
        self, tmdb_id: int, season: int, episode: int, *, show_title: str = ""
    ) -> EpisodeMetadata:
        data = await self._http.get_json(
            f"tv/{tmdb_id}/season/{season}/episode/{episode}",
            self._params(_EPISODE_APPEND),
            subject=f"series {tmdb_id} episode S{season:02d}E{episode:02d}",
        )
        return tmdb_parse.episode(data, self._language, self._image_base, show_title)

    async def season(
        self, tmdb_id: int, season: int, *, show_title: str = ""
    ) -> tuple[EpisodeMetadata, ...]:
        """Every episode of a season in one call (less detail than :meth:`episode`)."""
        data = await self._http.get_json(
            f"tv/{tmdb_id}/season/{season}",
            {"language": self._language_tag},
            subject=f"series {tmdb_id} season {season}",
        )
        return tuple(
            tmdb_parse.episode(item, self._language, self._image_base, show_title)
            for item in objects(data, "episodes")
        )

    async def find(self, external_id: str, source: ExternalSource) -> FindResult:
        """TMDB ids for an imdb id (``tt...``) or a tvdb id."""
        data = await self._http.get_json(
            f"find/{external_id}",
            {"external_source": source},
            subject=f"{source.removesuffix('_id')} id {external_id}",
        )
        return FindResult(
            movies=_ids(objects(data, "movie_results")),
            series=_ids(objects(data, "tv_results")),
        )


def _ids(results: list[JSONObject]) -> tuple[int, ...]:
    return tuple(i for i in (integer(r, "id") for r in results) if i is not None)


__all__ = ["NAME", "ExternalSource", "FindResult", "TmdbProvider", "auth_for"]
