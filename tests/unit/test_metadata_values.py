"""Settings, webhook values, artwork choice, pacing (token bucket, Retry-After, breaker),
safe folder names and the httpx log redaction: the pure parts of the metadata package."""

from __future__ import annotations

import json
import logging
import os
import tomllib
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from relayarr.errors import UnsafePath
from relayarr.jobqueue.breaker import BreakerPolicy
from relayarr.jobqueue.clock import FakeClock
from relayarr.metadata.artwork import pick
from relayarr.metadata.models import (
    Artwork,
    EpisodeMetadata,
    MovieMetadata,
    SeriesMetadata,
    UniqueIds,
)
from relayarr.metadata.providers.http import redact_httpx_logs
from relayarr.metadata.providers.limits import (
    CircuitOpen,
    ProviderBreaker,
    RetryPolicy,
    TokenBucket,
    parse_retry_after,
)
from relayarr.metadata.publish.files import SafeFolder
from relayarr.metadata.settings import MetadataSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

CONTRACT = """
[metadata]
tmdb_api_key = ""             # empty: no TMDB calls
fanart_api_key = ""           # empty: no fanart.tv calls
language = "en-US"            # falls back to the original language, then English
nfo = "video"                 # video: <video stem>.nfo | movie: movie.nfo | off
artwork = ["poster", "fanart", "clearlogo"]
artwork_style = "video"       # video: <video stem>-poster.jpg | folder: poster.jpg
# tmdb_url = "https://api.themoviedb.org/3"
# tmdb_image_url = "https://image.tmdb.org/t/p/"
# fanart_url = "https://webservice.fanart.tv/v3"
"""


def test_the_documented_toml_section_loads_as_the_defaults() -> None:
    section = tomllib.loads(CONTRACT)["metadata"]
    settings = MetadataSettings.model_validate(section)
    assert settings == MetadataSettings()
    assert not settings.tmdb_enabled
    assert not settings.fanart_enabled
    assert settings.artwork == ("poster", "fanart", "clearlogo")


def test_keys_are_secret_and_bad_values_are_refused() -> None:
    settings = MetadataSettings.model_validate({"tmdb_api_key": "abc-secret-123"})
    assert settings.tmdb_enabled
    assert "abc-secret-123" not in repr(settings)
    assert "abc-secret-123" not in settings.model_dump_json()
    for bad in (
        {"nfo": "both"},
        {"artwork": ["poster", "thumbnail"]},
        {"language": "english"},
        {"artwork_style": "file"},
        {"tmdb_url": "ftp://x"},
        {"unknown_key": 1},
    ):
        with pytest.raises(ValidationError):
            MetadataSettings.model_validate(bad)
    with pytest.raises(ValidationError):
        MetadataSettings().language = "fr"
    assert MetadataSettings(artwork=("poster", "poster")).artwork == ("poster",)


def test_from_radarr_and_sonarr_webhooks() -> None:
    radarr = json.loads((FIXTURES / "arr" / "radarr" / "download.json").read_text())
    m = radarr["movie"]
    movie = MovieMetadata.from_webhook(
        title=m["title"],
        year=m["year"],
        overview=m.get("overview"),
        genres=m["genres"],
        tmdb_id=m["tmdbId"],
        imdb_id=m["imdbId"],
        images=m["images"],
        tags=m["tags"],
    )
    assert (movie.title, movie.year, movie.genres, movie.tags) == (
        "Arrival",
        2016,
        ("Drama", "Science Fiction", "Mystery"),
        ("uhd",),
    )
    assert movie.ids == UniqueIds(tmdb=329865, imdb="tt2543164")
    assert movie.premiered == ""  # Radarr's releaseDate is the physical release
    assert [(a.kind, a.url) for a in movie.artwork] == [
        ("poster", "https://image.tmdb.org/t/p/original/example-poster.jpg"),
        ("fanart", "https://image.tmdb.org/t/p/original/example-fanart.jpg"),
    ]
    sonarr = json.loads((FIXTURES / "arr" / "sonarr" / "download_episode_file.json").read_text())
    s, e = sonarr["series"], sonarr["episodes"][0]
    series = SeriesMetadata.from_webhook(
        title=s["title"],
        year=s["year"],
        genres=s["genres"],
        tvdb_id=s["tvdbId"],
        tmdb_id=s["tmdbId"],
        imdb_id=s["imdbId"],
        images=s["images"],
    )
    assert series.ids == UniqueIds(tmdb=95396, imdb="tt11280740", tvdb=371980, default="tvdb")
    episode = EpisodeMetadata.from_webhook(
        title=e["title"],
        season=e["seasonNumber"],
        episode=e["episodeNumber"],
        overview=e["overview"],
        air_date=e["airDate"],
        tvdb_id=e["tvdbId"],
        show_title=s["title"],
    )
    assert (episode.season, episode.episode, episode.premiered, episode.year) == (
        2,
        3,
        "2025-01-31",
        2025,
    )


def test_webhook_values_are_cleaned() -> None:
    movie = MovieMetadata.from_webhook(
        title="  Arrival ",
        year=0,
        genres=["Drama", " ", "Drama"],
        tmdb_id=0,
        images=[
            {"coverType": "Poster", "remoteUrl": "/local/only.jpg"},
            {"coverType": "clearlogo", "remoteUrl": "https://x/logo.png"},
        ],
    )
    assert (movie.title, movie.year, movie.genres, movie.ids.tmdb) == (
        "Arrival",
        None,
        ("Drama",),
        None,
    )
    assert [a.kind for a in movie.artwork] == ["clearlogo"]


def test_pick_prefers_language_then_source_then_score() -> None:
    candidates = [
        Artwork("poster", "tmdb-en-low", "en", score=1, source="tmdb"),
        Artwork("poster", "tmdb-en-high", "en", score=9, source="tmdb"),
        Artwork("poster", "tmdb-de", "de", score=3, source="tmdb"),
        Artwork("poster", "fanart-en", "en", score=50, source="fanart.tv"),
        Artwork("poster", "webhook", None, source="webhook"),
        Artwork("fanart", "bg-text", "en", score=9, source="tmdb"),
        Artwork("fanart", "bg-textless", None, score=1, source="tmdb"),
        Artwork("clearlogo", "logo-tmdb", "en", score=9, source="tmdb"),
        Artwork("clearlogo", "logo-fanart", "en", score=1, source="fanart.tv"),
    ]
    assert pick(candidates, "poster", "en-US") is candidates[1]
    assert pick(candidates, "poster", "de-DE") is candidates[2]
    assert pick(candidates, "poster", "ja-JP") is candidates[1]  # English before textless
    assert pick(candidates, "fanart", "en-US") is candidates[6]  # textless background first
    assert pick(candidates, "clearlogo", "en-US") is candidates[8]  # fanart.tv's specialty
    assert pick(candidates, "banner", "en-US") is None


async def test_token_bucket_paces_after_the_burst() -> None:
    clock = FakeClock()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    bucket = TokenBucket(rate=4.0, burst=2.0, clock=clock, sleep=sleep)
    for _ in range(4):
        await bucket.acquire()
    assert waits == [pytest.approx(0.25), pytest.approx(0.25)]
    clock.advance(10)
    await bucket.acquire()
    assert len(waits) == 2  # refilled while idle, up to the burst


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:15:20 GMT", now) == pytest.approx(120.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) == 0.0
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    assert [policy.backoff(n, rand=lambda: 0.0) for n in range(5)] == [1, 2, 4, 5, 5]


def test_breaker_refuses_then_lets_one_probe_through() -> None:
    clock = FakeClock()
    breaker = ProviderBreaker("tmdb", BreakerPolicy(threshold=2, cooldown=10.0), clock)
    breaker.enter()
    breaker.failure()
    breaker.enter()
    breaker.failure()
    with pytest.raises(CircuitOpen) as caught:
        breaker.enter()
    assert caught.value.retry_after == 10.0
    clock.advance(10)
    breaker.enter()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.enter()  # a second caller while probing
    breaker.success()
    breaker.enter()


def test_safe_folder_refuses_names_that_leave_it(tmp_path: Path) -> None:
    root = tmp_path / "movie"
    root.mkdir()
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path, root / "up")
    folder = SafeFolder(root)
    for name in ("../secret", "/etc/passwd", "a/../../secret", "up/secret", "", "a\x00b"):
        with pytest.raises(UnsafePath):
            folder.path(name)
    assert folder.path("Season 01/x.nfo") == root / "Season 01" / "x.nfo"
    folder.write("ok.nfo", b"<movie/>")
    assert (root / "ok.nfo").stat().st_mode & 0o777 == 0o644


def test_httpx_log_lines_never_show_keys(caplog: pytest.LogCaptureFixture) -> None:
    redact_httpx_logs()
    redact_httpx_logs()  # idempotent
    url = httpx.URL("https://api.themoviedb.org/3/movie/1?api_key=SECRET1&language=en")
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s"', "GET", url, "200 OK")
        logging.getLogger("httpx").info("client_key=SECRET2 in a message")
    text = caplog.text
    assert "SECRET1" not in text
    assert "SECRET2" not in text
    assert "api_key=***&language=en" in text
