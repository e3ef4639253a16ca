"""TMDB v3 answers -> metadata values. Pure functions over the documented shapes.

Details are asked for in the configured language with ``translations`` appended, so the
language fallback needs no second call: each text field empty in the configured language
is taken from the translation in the item's original language, then from English.
"""

from __future__ import annotations

from dataclasses import dataclass

from relayarr.jobqueue.models import JSONObject
from relayarr.metadata.models import (
    Actor,
    Artwork,
    Collection,
    EpisodeMetadata,
    MovieMetadata,
    Rating,
    SeriesMetadata,
    UniqueIds,
)
from relayarr.metadata.providers.json import integer, names, number, obj, objects, text

MAX_ACTORS = 50  # enough for any cast list a player shows; keeps NFOs small

# (images key, artwork type) of TMDB's image lists.
_IMAGE_KINDS = (("posters", "poster"), ("backdrops", "fanart"), ("logos", "clearlogo"))


@dataclass(frozen=True, slots=True)
class Language:
    """The configured language split: ``en-US`` -> ``en`` and ``US``."""

    code: str
    country: str

    @classmethod
    def parse(cls, tag: str) -> Language:
        code, _, country = tag.partition("-")
        return cls(code, country or "US")


def fallback(data: JSONObject, key: str, translation_key: str, language: Language) -> str:
    """``data[key]``, else the original language's translation, else English's."""
    value = text(data, key)
    if value:
        return value
    original = text(data, "original_language")
    translations = objects(obj(data, "translations"), "translations")
    for code in dict.fromkeys(c for c in (original, "en") if c and c != language.code):
        for item in _ranked(translations, code):
            candidate = text(obj(item, "data"), translation_key)
            if candidate:
                return candidate
    return ""


def _ranked(translations: list[JSONObject], code: str) -> list[JSONObject]:
    # en-US before en-GB: the US entry is TMDB's primary English one.
    same = [t for t in translations if text(t, "iso_639_1") == code]
    return sorted(same, key=lambda t: text(t, "iso_3166_1") not in ("US", code.upper()))


def movie(data: JSONObject, language: Language, image_base: str) -> MovieMetadata:
    """``GET /movie/{id}`` with release_dates, credits, images, external_ids, translations."""
    premiered = text(data, "release_date")
    crew = objects(obj(data, "credits"), "crew")
    collection = obj(data, "belongs_to_collection")
    return MovieMetadata(
        title=fallback(data, "title", "title", language) or text(data, "original_title"),
        original_title=text(data, "original_title"),
        year=_year(premiered),
        premiered=premiered,
        plot=fallback(data, "overview", "overview", language),
        tagline=fallback(data, "tagline", "tagline", language),
        runtime=integer(data, "runtime") or None,
        mpaa=_certification(data, language),
        genres=names(objects(data, "genres")),
        studios=names(objects(data, "production_companies")),
        countries=names(objects(data, "production_countries")),
        ratings=_rating(data),
        ids=UniqueIds(
            tmdb=integer(data, "id"),
            imdb=text(data, "imdb_id") or text(obj(data, "external_ids"), "imdb_id") or None,
        ),
        directors=_crew(crew, job="Director"),
        writers=_crew(crew, department="Writing"),
        actors=_actors(objects(obj(data, "credits"), "cast"), image_base),
        collection=Collection(text(collection, "name"), "", integer(collection, "id"))
        if text(collection, "name")
        else None,
        artwork=_artwork(data, image_base),
    )


def series(data: JSONObject, language: Language, image_base: str) -> SeriesMetadata:
    """``GET /tv/{id}`` with content_ratings, credits, images, external_ids, translations."""
    premiered = text(data, "first_air_date")
    external = obj(data, "external_ids")
    tvdb = integer(external, "tvdb_id")
    run_times = data.get("episode_run_time")
    runtimes = [r for r in run_times if isinstance(r, int)] if isinstance(run_times, list) else []
    return SeriesMetadata(
        title=fallback(data, "name", "name", language) or text(data, "original_name"),
        original_title=text(data, "original_name"),
        year=_year(premiered),
        premiered=premiered,
        plot=fallback(data, "overview", "overview", language),
        tagline=fallback(data, "tagline", "tagline", language),
        runtime=runtimes[0] if runtimes else None,
        mpaa=_content_rating(data, language),
        status=text(data, "status"),
        genres=names(objects(data, "genres")),
        studios=names(objects(data, "networks") + objects(data, "production_companies")),
        countries=names(objects(data, "production_countries")),
        ratings=_rating(data),
        ids=UniqueIds(
            tmdb=integer(data, "id"),
            imdb=text(external, "imdb_id") or None,
            tvdb=tvdb,
            default="tvdb" if tvdb is not None else "tmdb",
        ),
        writers=names(objects(data, "created_by")),
        actors=_actors(objects(obj(data, "credits"), "cast"), image_base),
        artwork=_artwork(data, image_base),
    )


def episode(
    data: JSONObject, language: Language, image_base: str, show_title: str = ""
) -> EpisodeMetadata:
    """``GET /tv/{id}/season/{s}/episode/{e}`` (or one of a season's ``episodes``)."""
    aired = text(data, "air_date")
    crew = objects(data, "crew")
    external = obj(data, "external_ids")
    still = text(data, "still_path")
    stills = objects(obj(data, "images"), "stills")
    artwork = tuple(_image(i, "thumb", image_base) for i in stills if text(i, "file_path"))
    if not artwork and still:
        artwork = (Artwork("thumb", image_base + "original" + still, source="tmdb"),)
    return EpisodeMetadata(
        title=fallback(data, "name", "name", language),
        show_title=show_title,
        season=integer(data, "season_number"),
        episode=integer(data, "episode_number"),
        year=_year(aired),
        premiered=aired,
        plot=fallback(data, "overview", "overview", language),
        runtime=integer(data, "runtime") or None,
        ratings=_rating(data),
        ids=UniqueIds(
            tmdb=integer(data, "id"),
            imdb=text(external, "imdb_id") or None,
            tvdb=integer(external, "tvdb_id"),
            default="tvdb" if integer(external, "tvdb_id") is not None else "tmdb",
        ),
        directors=_crew(crew, job="Director"),
        writers=_crew(crew, department="Writing"),
        actors=_actors(objects(data, "guest_stars"), image_base),
        artwork=artwork,
    )


def _year(date: str) -> int | None:
    return int(date[:4]) if len(date) >= 4 and date[:4].isdigit() else None


def _rating(data: JSONObject) -> tuple[Rating, ...]:
    votes = integer(data, "vote_count") or 0
    if not votes:
        return ()
    return (Rating("themoviedb", round(number(data, "vote_average"), 3), votes, 10, True),)


def _certification(data: JSONObject, language: Language) -> str:
    """The movie's certification in the language's country, else the US one."""
    by_country = {
        text(c, "iso_3166_1"): objects(c, "release_dates")
        for c in objects(obj(data, "release_dates"), "results")
    }
    for country in dict.fromkeys((language.country, "US")):
        dates = by_country.get(country, [])
        # Theatrical releases (type 3) carry the rating people know; then any other.
        for release in sorted(dates, key=lambda r: integer(r, "type") != 3):
            if certification := text(release, "certification"):
                return certification
    return ""


def _content_rating(data: JSONObject, language: Language) -> str:
    ratings = {
        text(r, "iso_3166_1"): text(r, "rating")
        for r in objects(obj(data, "content_ratings"), "results")
    }
    return ratings.get(language.country) or ratings.get("US") or ""


def _crew(crew: list[JSONObject], *, job: str = "", department: str = "") -> tuple[str, ...]:
    chosen = [
        c
        for c in crew
        if (job and text(c, "job") == job) or (department and text(c, "department") == department)
    ]
    return names(chosen)


def _actors(cast_list: list[JSONObject], image_base: str) -> tuple[Actor, ...]:
    ordered = sorted(cast_list, key=lambda c: integer(c, "order") or 0)
    actors = []
    for member in ordered[:MAX_ACTORS]:
        name = text(member, "name")
        if not name:
            continue
        profile = text(member, "profile_path")
        actors.append(
            Actor(
                name=name,
                role=text(member, "character"),
                order=integer(member, "order"),
                thumb=image_base + "original" + profile if profile else "",
            )
        )
    return tuple(actors)


def _image(image: JSONObject, kind: str, image_base: str) -> Artwork:
    path = text(image, "file_path")
    return Artwork(
        kind=kind,
        url=image_base + "original" + path,
        language=text(image, "iso_639_1") or None,
        width=integer(image, "width") or 0,
        height=integer(image, "height") or 0,
        score=number(image, "vote_average") + number(image, "vote_count") / 1000,
        source="tmdb",
        preview=image_base + "w500" + path,
    )


def _artwork(data: JSONObject, image_base: str) -> tuple[Artwork, ...]:
    images = obj(data, "images")
    found = [
        _image(image, kind, image_base)
        for key, kind in _IMAGE_KINDS
        for image in objects(images, key)
        if text(image, "file_path")
    ]
    # Without the images list, the details' own poster and backdrop still serve.
    for key, kind in (("poster_path", "poster"), ("backdrop_path", "fanart")):
        path = text(data, key)
        if path and not any(a.kind == kind for a in found):
            found.append(
                Artwork(
                    kind,
                    image_base + "original" + path,
                    source="tmdb",
                    preview=image_base + "w500" + path,
                )
            )
    return tuple(found)


__all__ = ["MAX_ACTORS", "Language", "episode", "fallback", "movie", "series"]
