"""Provider faults over real HTTP: 429 with Retry-After, 5xx, slow answers, bad JSON,
the circuit breaker, and the Enricher reporting failures instead of raising them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from relayarr.errors import ProviderBadResponse, ProviderUnavailable
from relayarr.jobqueue.breaker import BreakerPolicy
from relayarr.jobqueue.clock import FakeClock
from relayarr.metadata import (
    Enricher,
    MemoryResponseCache,
    MetadataSettings,
    Providers,
    UniqueIds,
    build_providers,
)
from relayarr.metadata.providers import TmdbProvider

from .conftest import RecordingSleep
from .fakes import FakeState, Fault

MOVIE = "/tmdb/3/movie/329865"


def tmdb(providers: Providers) -> TmdbProvider:
    assert providers.tmdb is not None
    return providers.tmdb


async def test_429_waits_the_retry_after_seconds_then_succeeds(
    providers: Providers, fake: FakeState, sleeps: RecordingSleep
) -> None:
    fake.fault(MOVIE, Fault(429, {"Retry-After": "7"}))
    movie = await tmdb(providers).movie(329865)
    assert movie.title == "Arrival"
    assert sleeps.delays == [7.0]
    assert len(fake.calls(MOVIE)) == 2


async def test_retry_after_as_an_http_date(
    providers: Providers, fake: FakeState, sleeps: RecordingSleep, clock: FakeClock
) -> None:
    when = datetime.fromtimestamp(clock.now() + 12, tz=UTC)
    fake.fault(MOVIE, Fault(503, {"Retry-After": format_datetime(when, usegmt=True)}))
    await tmdb(providers).movie(329865)
    assert sleeps.delays == [pytest.approx(12.0, abs=1.0)]


async def test_a_retry_after_past_the_cap_fails_at_once_and_says_when(
    providers: Providers, fake: FakeState, sleeps: RecordingSleep
) -> None:
    fake.fault(MOVIE, Fault(429, {"Retry-After": "3600"}))
    with pytest.raises(ProviderUnavailable) as caught:
        await tmdb(providers).movie(329865)
    assert caught.value.retry_after == 3600.0
    assert str(caught.value) == "tmdb: movie 329865: HTTP 429: fault, asked to wait 3600 s"
    assert sleeps.delays == []
    assert len(fake.calls(MOVIE)) == 1


async def test_5xx_is_retried_with_backoff_then_given_up(
    providers: Providers, fake: FakeState, sleeps: RecordingSleep, settings: MetadataSettings
) -> None:
    fake.fault(MOVIE, *[Fault(502)] * (settings.retries + 1))
    with pytest.raises(ProviderUnavailable) as caught:
        await tmdb(providers).movie(329865)
    assert f"HTTP 502: fault after {settings.retries + 1} attempts" in str(caught.value)
    assert len(sleeps.delays) == settings.retries
    assert sleeps.delays == sorted(sleeps.delays)  # backing off, not hammering
    assert len(fake.calls(MOVIE)) == settings.retries + 1


async def test_a_slow_answer_times_out_and_is_retried(
    server_settings: MetadataSettings,
    client: httpx.AsyncClient,
    fake: FakeState,
    clock: FakeClock,
) -> None:
    sleeps = RecordingSleep(clock)
    quick = server_settings.model_copy(update={"timeout": 1.0})
    providers = build_providers(
        quick, client, MemoryResponseCache(clock), clock=clock, sleep=sleeps
    )
    fake.fault(MOVIE, Fault(slow=5.0))
    movie = await tmdb(providers).movie(329865)
    assert movie.title == "Arrival"
    assert len(fake.calls(MOVIE)) == 2
    assert len(sleeps.delays) == 1


async def test_an_answer_that_is_not_json_is_a_clear_error(
    providers: Providers, fake: FakeState
) -> None:
    fake.fault(MOVIE, Fault(garbage=True))
    with pytest.raises(ProviderBadResponse, match=r"^tmdb: movie 329865: answer is not JSON"):
        await tmdb(providers).movie(329865)


async def test_unreachable_provider_is_unavailable(
    server_settings: MetadataSettings, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    down = server_settings.model_copy(update={"tmdb_url": "http://127.0.0.1:9/3"})
    providers = build_providers(
        down, client, MemoryResponseCache(clock), clock=clock, sleep=RecordingSleep(clock)
    )
    with pytest.raises(ProviderUnavailable, match=r"cannot connect \(ConnectError\)"):
        await tmdb(providers).movie(329865)


async def test_the_breaker_opens_after_repeated_failures_then_probes(
    server_settings: MetadataSettings,
    client: httpx.AsyncClient,
    fake: FakeState,
    clock: FakeClock,
) -> None:
    settings = server_settings.model_copy(update={"retries": 0, "cache_ttl": 0})
    policy = BreakerPolicy(threshold=2, cooldown=30.0, max_cooldown=60.0)
    providers = build_providers(
        settings,
        client,
        MemoryResponseCache(clock),
        clock=clock,
        sleep=RecordingSleep(clock),
        breaker_policy=policy,
    )
    fake.fault(MOVIE, Fault(500), Fault(500), Fault(500))
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="HTTP 500"):
            await tmdb(providers).movie(329865)
    with pytest.raises(ProviderUnavailable, match="circuit open") as caught:
        await tmdb(providers).movie(329865)
    assert caught.value.retry_after == 30.0
    assert len(fake.calls(MOVIE)) == 2  # the third call never left the process
    clock.advance(30)
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):  # the probe fails: longer
        await tmdb(providers).movie(329865)
    with pytest.raises(ProviderUnavailable, match="circuit open for 60 s"):
        await tmdb(providers).movie(329865)
    clock.advance(60)
    assert (await tmdb(providers).movie(329865)).title == "Arrival"  # probe succeeds
    assert (await tmdb(providers).movie(329865)).title == "Arrival"  # closed again
    assert len(fake.calls(MOVIE)) == 5


async def test_not_found_does_not_open_the_breaker(
    server_settings: MetadataSettings,
    client: httpx.AsyncClient,
    fake: FakeState,
    clock: FakeClock,
) -> None:
    policy = BreakerPolicy(threshold=1, cooldown=30.0)
    providers = build_providers(
        server_settings, client, MemoryResponseCache(clock), clock=clock, breaker_policy=policy
    )
    for _ in range(3):
        with pytest.raises(Exception, match="unknown id"):
            await tmdb(providers).movie(1)
    assert len(fake.calls("/tmdb/3/movie/1")) == 3


async def test_fanart_artwork_picks_hd_and_reads_language(
    providers: Providers, fake: FakeState
) -> None:
    assert providers.fanart is not None
    art = await providers.fanart.movie(329865)
    logos = [a for a in art if a.kind == "clearlogo"]
    assert [(a.language, a.score) for a in logos] == [("en", 7.0), ("de", 2.0)]  # HD only
    assert {a.kind for a in art} == {"clearlogo", "discart", "fanart", "landscape"}
    assert [a.language for a in art if a.kind == "fanart"] == [None]
    (call,) = fake.calls("/fanart/v3/movies/329865")
    assert call.params["api_key"]
    show = await providers.fanart.series(371980)
    assert {a.kind for a in show} == {"clearlogo", "banner", "fanart"}


async def test_enricher_combines_tmdb_and_fanart(providers: Providers, fake: FakeState) -> None:
    result = await Enricher(providers).movie(UniqueIds(imdb="tt2543164"))
    assert result.failures == ()
    assert result.sources == ("tmdb", "fanart.tv")
    assert result.metadata is not None
    assert result.metadata.title == "Arrival"
    sources = {a.source for a in result.metadata.artwork}
    assert sources == {"tmdb", "fanart.tv"}
    assert fake.calls("/tmdb/3/find/tt2543164")


async def test_enricher_reports_failures_and_keeps_what_worked(
    providers: Providers, fake: FakeState, settings: MetadataSettings
) -> None:
    fake.fault(MOVIE, *[Fault(500)] * (settings.retries + 1))
    result = await Enricher(providers).movie(UniqueIds(tmdb=329865))
    (failure,) = result.failures
    assert (failure.provider, failure.subject, failure.kind) == (
        "tmdb",
        "movie 329865",
        "unavailable",
    )
    assert result.transient
    assert result.metadata is not None  # fanart.tv still answered
    assert result.metadata.title == ""
    assert {a.source for a in result.metadata.artwork} == {"fanart.tv"}
    assert result.summary()["failures"] == [
        {
            "provider": "tmdb",
            "subject": "movie 329865",
            "kind": "unavailable",
            "message": failure.message,
            "retry_after": None,
        }
    ]


async def test_enricher_takes_fanart_404_as_no_art(providers: Providers, fake: FakeState) -> None:
    del fake.fanart_tv["371980"]
    result = await Enricher(providers).series(UniqueIds(tvdb=371980))
    assert result.failures == ()
    assert result.metadata is not None
    assert result.metadata.title == "Severance"
    assert result.sources == ("tmdb",)


async def test_enricher_episode_by_tvdb_series_id(providers: Providers) -> None:
    result = await Enricher(providers).episode(UniqueIds(tvdb=371980), 2, 3, show_title="Severance")
    assert result.metadata is not None
    assert (result.metadata.title, result.metadata.show_title) == ("Who Is Alive?", "Severance")


async def test_enricher_without_keys_does_nothing(
    server_settings: MetadataSettings, client: httpx.AsyncClient, fake: FakeState
) -> None:
    off = MetadataSettings(tmdb_url=server_settings.tmdb_url)
    enricher = Enricher(build_providers(off, client, MemoryResponseCache()))
    assert not enricher.enabled
    result = await enricher.movie(UniqueIds(tmdb=329865))
    assert (result.metadata, result.failures) == (None, ())
    assert fake.requests == []


async def test_an_unknown_movie_is_reported(providers: Providers) -> None:
    result = await Enricher(providers).movie(UniqueIds(tmdb=424242))
    assert [f.kind for f in result.failures] == ["not_found"]
    assert result.failures[0].message.startswith("tmdb: movie 424242: unknown id")
    assert not result.transient


@pytest.fixture
def server_settings(settings: MetadataSettings) -> MetadataSettings:
    return settings
