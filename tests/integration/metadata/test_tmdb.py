"""The TMDB provider against the fake TMDB over loopback: shapes, auth, languages, cache."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from relayarr.errors import ProviderAuthError, ProviderNotFound
from relayarr.jobqueue.clock import FakeClock
from relayarr.metadata import MemoryResponseCache, MetadataSettings, Providers, build_providers
from relayarr.metadata.models import Actor, Collection, Rating, UniqueIds
from relayarr.metadata.providers import TmdbProvider

from .fakes import TMDB_KEY, TMDB_TOKEN, FakeState


def tmdb(providers: Providers) -> TmdbProvider:
    assert providers.tmdb is not None
    return providers.tmdb


async def test_movie_details_become_metadata(providers: Providers, fake: FakeState) -> None:
    movie = await tmdb(providers).movie(329865)
    assert movie.title == "Arrival"
    assert (movie.year, movie.premiered, movie.runtime) == (2016, "2016-11-10", 116)
    assert movie.mpaa == "PG-13"
    assert movie.genres == ("Drama", "Science Fiction", "Mystery")
    assert movie.studios == ("Paramount Pictures", "21 Laps Entertainment")
    assert movie.countries == ("United States of America",)
    assert movie.ids == UniqueIds(tmdb=329865, imdb="tt2543164")
    assert movie.directors == ("Denis Villeneuve",)
    assert movie.writers == ("Eric Heisserer", "Ted Chiang")
    assert movie.ratings == (Rating("themoviedb", 7.6, 18000, 10, True),)
    assert movie.actors[0] == Actor(
        "Amy Adams", "Louise Banks", 0, f"{fake.base}/img/tmdb/original/amy.jpg"
    )
    assert movie.actors[1].thumb == ""
    assert movie.collection is None
    kinds = {(a.kind, a.language) for a in movie.artwork}
    assert ("poster", "en") in kinds
    assert ("fanart", None) in kinds
    assert ("clearlogo", "en") in kinds
    assert ("poster", "de") not in kinds  # include_image_language asked for en and textless


async def test_the_request_carries_key_language_and_appends(
    providers: Providers, fake: FakeState
) -> None:
    await tmdb(providers).movie(329865)
    (call,) = fake.calls("/tmdb/3/movie/329865")
    assert call.params["api_key"] == TMDB_KEY
    assert call.params["language"] == "en-US"
    assert set(call.params["append_to_response"].split(",")) == {
        "release_dates",
        "credits",
        "images",
        "external_ids",
        "translations",
    }
    assert call.params["include_image_language"] == "en,null"


async def test_a_v4_token_goes_as_bearer_header(
    server_settings_client: tuple[MetadataSettings, httpx.AsyncClient], fake: FakeState
) -> None:
    settings, client = server_settings_client
    settings = settings.model_copy(update={"tmdb_api_key": SecretStr(TMDB_TOKEN)})
    providers = build_providers(settings, client, MemoryResponseCache())
    assert providers.tmdb is not None
    assert (await providers.tmdb.movie(329865)).title == "Arrival"
    (call,) = fake.calls("/tmdb/3/movie/329865")
    assert call.headers["authorization"] == f"Bearer {TMDB_TOKEN}"
    assert "api_key" not in call.params


async def test_language_falls_back_per_field(
    server_settings_client: tuple[MetadataSettings, httpx.AsyncClient], fake: FakeState
) -> None:
    settings, client = server_settings_client
    german = build_providers(
        settings.model_copy(update={"language": "de-DE"}), client, MemoryResponseCache()
    )
    assert german.tmdb is not None
    movie = await german.tmdb.movie(329865)
    assert movie.plot.startswith("Als zwölf außerirdische")  # German exists
    assert movie.tagline == "Why are they here?"  # no German tagline: original (English)
    assert movie.mpaa == "12"  # the German certification
    (call,) = fake.calls("/tmdb/3/movie/329865")
    assert call.params["language"] == "de-DE"
    assert call.params["include_image_language"] == "de,en,null"
    assert {(a.kind, a.language) for a in movie.artwork} >= {("poster", "de"), ("poster", "en")}


async def test_language_falls_back_to_original_then_english(
    server_settings_client: tuple[MetadataSettings, httpx.AsyncClient], fake: FakeState
) -> None:
    settings, client = server_settings_client
    data = fake.movies[329865]
    data["original_language"] = "de"
    data["overview"] = ""  # no English overview either: the German one is the original
    french = build_providers(
        settings.model_copy(update={"language": "fr-FR"}), client, MemoryResponseCache()
    )
    assert french.tmdb is not None
    movie = await french.tmdb.movie(329865)
    assert movie.title == "Premier Contact"
    assert movie.tagline == "Pourquoi sont-ils ici ?"
    assert movie.plot.startswith("Als zwölf")  # French empty -> original (de)


async def test_the_cache_answers_a_repeat_without_a_call(
    providers: Providers,
    fake: FakeState,
    cache: MemoryResponseCache,
    clock: FakeClock,
    settings: MetadataSettings,
) -> None:
    first = await tmdb(providers).movie(329865)
    second = await tmdb(providers).movie(329865)
    assert first == second
    assert len(fake.calls("/tmdb/3/movie/")) == 1
    clock.advance(settings.cache_ttl + 1)
    await tmdb(providers).movie(329865)
    assert len(fake.calls("/tmdb/3/movie/")) == 2


async def test_unknown_id_is_a_clear_not_found(providers: Providers, fake: FakeState) -> None:
    with pytest.raises(ProviderNotFound) as caught:
        await tmdb(providers).movie(999999)
    assert str(caught.value) == (
        "tmdb: movie 999999: unknown id (HTTP 404: The resource you requested could not be found.)"
    )


async def test_wrong_key_is_a_clear_auth_error_and_never_shows_the_key(
    server_settings_client: tuple[MetadataSettings, httpx.AsyncClient], fake: FakeState
) -> None:
    settings, client = server_settings_client
    wrong = build_providers(
        settings.model_copy(update={"tmdb_api_key": SecretStr("wrong-key-42")}),
        client,
        MemoryResponseCache(),
    )
    assert wrong.tmdb is not None
    with pytest.raises(ProviderAuthError) as caught:
        await wrong.tmdb.movie(329865)
    assert "tmdb: movie 329865: the API key was refused (HTTP 401: Invalid API key" in str(
        caught.value
    )
    assert "wrong-key-42" not in str(caught.value)


async def test_series_episode_season_and_find(providers: Providers, fake: FakeState) -> None:
    provider = tmdb(providers)
    show = await provider.series(95396)
    assert (show.title, show.year, show.mpaa, show.status) == (
        "Severance",
        2022,
        "TV-MA",
        "Returning Series",
    )
    assert show.ids == UniqueIds(tmdb=95396, imdb="tt11280740", tvdb=371980, default="tvdb")
    assert show.studios == ("Apple TV+", "Fifth Season")
    assert show.writers == ("Dan Erickson",)
    assert show.runtime == 50
    episode = await provider.episode(95396, 2, 3, show_title="Severance")
    assert (episode.title, episode.season, episode.episode, episode.premiered) == (
        "Who Is Alive?",
        2,
        3,
        "2025-01-31",
    )
    assert episode.directors == ("Ben Stiller",)
    assert episode.writers == ("Dan Erickson",)
    assert episode.actors[0].name == "John Turturro"
    assert episode.ids.tvdb == 10456789
    assert [a.kind for a in episode.artwork] == ["thumb"]
    season = await provider.season(95396, 2)
    assert [e.title for e in season] == ["Who Is Alive?"]
    found = await provider.find("371980", "tvdb_id")
    assert found.series == (95396,)
    assert found.movies == ()
    found = await provider.find("tt2543164", "imdb_id")
    assert found.movies == (329865,)
    assert fake.calls("/tmdb/3/find/371980")[0].params["external_source"] == "tvdb_id"


async def test_collection_is_read(providers: Providers, fake: FakeState) -> None:
    fake.movies[329865]["belongs_to_collection"] = {
        "id": 10,
        "name": "Arrival Collection",
        "poster_path": None,
        "backdrop_path": None,
    }
    movie = await tmdb(providers).movie(329865)
    assert movie.collection == Collection("Arrival Collection", "", 10)


@pytest.fixture
def server_settings_client(
    settings: MetadataSettings, client: httpx.AsyncClient
) -> tuple[MetadataSettings, httpx.AsyncClient]:
    return settings, client
