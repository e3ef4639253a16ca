"""The Publisher end to end on real folders, with metadata from the fake providers over
loopback: first publish, idempotence, hand edits, upgrades, restores, bad images,
malformed NFOs, unsafe names, series and episodes, and the offline path."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from relayarr.errors import ArtworkRejected, NfoMalformed, UnsafePath
from relayarr.metadata import (
    ContentStore,
    Enricher,
    EpisodeMetadata,
    ItemRef,
    MemoryPublishStore,
    MetadataSettings,
    MovieMetadata,
    Providers,
    Publisher,
    PublishRequest,
    SeriesMetadata,
    UniqueIds,
)
from relayarr.metadata.nfo import parse_nfo, read_values
from relayarr.metadata.publish.protect import sha256

from .conftest import settings_for
from .fakes import FakeState, png

ITEM = ItemRef("movie:412")
STEM = "Arrival (2016) [Bluray-1080p]"
WEBHOOK = MovieMetadata.from_webhook(
    title="Arrival",
    year=2016,
    overview="Webhook overview.",
    genres=["Drama"],
    tmdb_id=329865,
    imdb_id="tt2543164",
    tags=["uhd"],
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    movie = tmp_path / "movies" / "Arrival (2016)"
    movie.mkdir(parents=True)
    (movie / f"{STEM}.mkv").write_bytes(b"video")
    return movie


async def arrival(providers: Providers) -> MovieMetadata:
    result = await Enricher(providers).movie(UniqueIds(tmdb=329865))
    assert result.metadata is not None
    assert not result.failures
    return result.metadata


def request(
    folder: Path,
    provider: MovieMetadata | None,
    *,
    stem: str = STEM,
    replaced: tuple[Path, ...] = (),
) -> PublishRequest[MovieMetadata]:
    return PublishRequest(
        ITEM, MovieMetadata, folder, folder / f"{stem}.mkv", provider, WEBHOOK, replaced
    )


def nfo_values(path: Path) -> dict[str, object]:
    return dict(read_values(parse_nfo(path.read_bytes(), path.name, MovieMetadata), MovieMetadata))


async def test_first_publish_writes_nfo_artwork_and_protected_copies(
    publisher: Publisher,
    providers: Providers,
    folder: Path,
    store: MemoryPublishStore,
    tmp_path: Path,
    fake: FakeState,
) -> None:
    result = await publisher.publish(request(folder, await arrival(providers)))
    assert result.ok, result.errors
    assert sorted(result.names("written")) == sorted(
        [
            f"{STEM}.nfo",
            f"{STEM}-poster.jpg",
            f"{STEM}-fanart.jpg",
            f"{STEM}-clearlogo.png",
        ]
    )
    values = nfo_values(folder / f"{STEM}.nfo")
    assert values["title"] == "Arrival"
    assert values["tags"] == ("uhd",)  # from the webhook: TMDB has none
    assert values["mpaa"] == "PG-13"
    text = (folder / f"{STEM}.nfo").read_text(encoding="utf-8")
    assert f"{fake.base}/img/tmdb/original/arrival-poster.jpg" in text
    logo = (folder / f"{STEM}-clearlogo.png").read_bytes()
    assert logo.startswith(b"\x89PNG")
    assert b"hdmovielogo/arrival-en.png" in logo
    fanart = (folder / f"{STEM}-fanart.jpg").read_bytes()
    assert b"arrival-backdrop.jpg" in fanart  # textless backdrop preferred
    for name in result.names("written"):
        digest = sha256((folder / str(name)).read_bytes())
        assert (tmp_path / "data" / "assets" / digest[:2] / digest).is_file()
        assert store.records[(ITEM, str(name))].sha256 == digest
    assert not list(folder.glob(".relayarr-*"))
    assert result.summary()["title"] == "Arrival"


async def test_publishing_again_changes_nothing_and_downloads_nothing(
    publisher: Publisher, providers: Providers, folder: Path, fake: FakeState
) -> None:
    meta = await arrival(providers)
    await publisher.publish(request(folder, meta))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    fake.reset_calls()
    result = await publisher.publish(request(folder, meta))
    assert result.ok
    assert result.names("written") == []
    assert len(result.names("unchanged")) == 4
    assert fake.calls("/img/") == []
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


async def test_a_hand_edit_survives_re_enrichment(
    publisher: Publisher, providers: Providers, folder: Path, store: MemoryPublishStore
) -> None:
    meta = await arrival(providers)
    await publisher.publish(request(folder, meta))
    nfo = folder / f"{STEM}.nfo"
    edited = (
        nfo.read_text(encoding="utf-8")
        .replace("<title>Arrival</title>", "<title>Premier Contact (ma version)</title>")
        .replace("</movie>", "  <playcount>2</playcount>\n  <watched>true</watched>\n</movie>")
    )
    nfo.write_text(edited, encoding="utf-8")
    result = await publisher.publish(request(folder, meta))
    assert result.edited == frozenset({"title"})
    assert store.locks[ITEM].fields == frozenset({"title"})
    values = nfo_values(nfo)
    assert values["title"] == "Premier Contact (ma version)"
    root = parse_nfo(nfo.read_bytes(), "x", MovieMetadata).root
    assert (root.findtext("playcount"), root.findtext("watched")) == ("2", "true")
    # the provider changes its title: the lock holds, other fields follow the provider
    from dataclasses import replace

    newer = replace(meta, title="Arrival (2016)", plot="A newer plot.")
    again = await publisher.publish(request(folder, newer))
    assert again.edited == frozenset()
    assert nfo_values(nfo)["title"] == "Premier Contact (ma version)"
    assert nfo_values(nfo)["plot"] == "A newer plot."


async def test_an_upgrade_moves_edits_and_art_to_the_new_file_and_cleans_the_old(
    publisher: Publisher,
    providers: Providers,
    folder: Path,
    fake: FakeState,
    store: MemoryPublishStore,
) -> None:
    meta = await arrival(providers)
    await publisher.publish(request(folder, meta))
    old_nfo = folder / f"{STEM}.nfo"
    old_nfo.write_text(
        old_nfo.read_text(encoding="utf-8").replace(
            "<tagline>Why are they here?</tagline>", "<tagline>My tagline</tagline>"
        ),
        encoding="utf-8",
    )
    new_stem = "Arrival (2016) [Bluray-2160p]"
    (folder / f"{STEM}.mkv").unlink()
    (folder / f"{new_stem}.mkv").write_bytes(b"better video")
    fake.reset_calls()
    result = await publisher.publish(
        request(folder, meta, stem=new_stem, replaced=(folder / f"{STEM}.mkv",))
    )
    assert result.ok, result.errors
    assert fake.calls("/img/") == []  # art moved, nothing downloaded again
    assert sorted(result.names("moved")) == sorted(
        [f"{new_stem}-poster.jpg", f"{new_stem}-fanart.jpg", f"{new_stem}-clearlogo.png"]
    )
    assert result.names("removed") == [f"{STEM}.nfo"]
    assert nfo_values(folder / f"{new_stem}.nfo")["tagline"] == "My tagline"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            f"{new_stem}.mkv",
            f"{new_stem}.nfo",
            f"{new_stem}-poster.jpg",
            f"{new_stem}-fanart.jpg",
            f"{new_stem}-clearlogo.png",
        ]
    )
    assert {name for (_, name) in store.records} == {
        f"{new_stem}.nfo",
        f"{new_stem}-poster.jpg",
        f"{new_stem}-fanart.jpg",
        f"{new_stem}-clearlogo.png",
    }


async def test_files_an_arr_deleted_come_back_without_any_call(
    publisher: Publisher, providers: Providers, folder: Path, fake: FakeState
) -> None:
    meta = await arrival(providers)
    await publisher.publish(request(folder, meta))
    originals = {p.name: p.read_bytes() for p in folder.iterdir()}
    for name in (f"{STEM}.nfo", f"{STEM}-poster.jpg", f"{STEM}-clearlogo.png"):
        (folder / name).unlink()
    fake.reset_calls()
    result = await publisher.publish(request(folder, meta))
    assert sorted(result.names("restored")) == sorted(
        [f"{STEM}.nfo", f"{STEM}-poster.jpg", f"{STEM}-clearlogo.png"]
    )
    assert fake.requests == []
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == originals


async def test_without_providers_the_webhook_is_published(
    server_url: str, client: httpx.AsyncClient, folder: Path, tmp_path: Path, fake: FakeState
) -> None:
    offline = MetadataSettings(artwork=("poster",))
    publisher = Publisher(
        offline,
        client=client,
        store=MemoryPublishStore(),
        content=ContentStore(tmp_path / "assets"),
    )
    webhook = MovieMetadata.from_webhook(
        title="Arrival",
        year=2016,
        overview="A linguist.",
        genres=["Drama", "Mystery"],
        tmdb_id=329865,
        imdb_id="tt2543164",
        images=[
            {
                "coverType": "poster",
                "url": "/MediaCover/1/poster.jpg",
                "remoteUrl": f"{server_url}/img/radarr/poster.jpg",
            },
            {"coverType": "headshot", "remoteUrl": f"{server_url}/img/x.jpg"},
        ],
    )
    result = await publisher.publish(
        PublishRequest(ITEM, MovieMetadata, folder, folder / f"{STEM}.mkv", None, webhook)
    )
    assert result.ok, result.errors
    values = nfo_values(folder / f"{STEM}.nfo")
    assert (values["title"], values["year"], values["plot"]) == ("Arrival", 2016, "A linguist.")
    assert values["ids"] == UniqueIds(tmdb=329865, imdb="tt2543164")
    assert (folder / f"{STEM}-poster.jpg").read_bytes().startswith(b"\xff\xd8\xff")
    assert [c.path for c in fake.calls("/")] == ["/img/radarr/poster.jpg"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("streamed", "too large: over 4096 bytes, download aborted"),
        ("declared", "too large: 50000 bytes, limit 4096"),
        ("html", "not an image: served as text/html"),
        ("garbage", "not a JPEG, PNG or WebP image"),
        ("missing", "download failed: HTTP 404"),
    ],
)
async def test_bad_images_fail_alone(
    setup: str,
    message: str,
    server_url: str,
    client: httpx.AsyncClient,
    folder: Path,
    tmp_path: Path,
    fake: FakeState,
) -> None:
    path = "bad/poster.jpg"
    if setup == "streamed":
        fake.streamed[path] = 1_000_000
    elif setup == "declared":
        fake.images[path] = (b"\xff\xd8\xff" + b"\0" * 49997, "image/jpeg")
    elif setup == "html":
        fake.images[path] = (b"<html>Cloudflare</html>", "text/html")
    elif setup == "garbage":
        fake.images[path] = (b"GIF89a not allowed", "image/jpeg")
    else:
        path = "bad/absent.txt"
    settings = settings_for(
        server_url, tmdb_api_key="", fanart_api_key="", max_image_bytes=4096, artwork=("poster",)
    )
    publisher = Publisher(
        settings,
        client=client,
        store=MemoryPublishStore(),
        content=ContentStore(tmp_path / "assets"),
    )
    webhook = MovieMetadata.from_webhook(
        title="Arrival", images=[{"coverType": "poster", "remoteUrl": f"{server_url}/img/{path}"}]
    )
    result = await publisher.publish(
        PublishRequest(ITEM, MovieMetadata, folder, folder / f"{STEM}.mkv", None, webhook)
    )
    (error,) = result.errors
    assert isinstance(error, ArtworkRejected)
    assert message in str(error)
    assert str(error).startswith(f"{STEM}-poster: ")
    assert result.names("written") == [f"{STEM}.nfo"]  # the NFO is still published
    assert not list(folder.glob("*-poster.*"))
    assert not list(folder.glob(".relayarr-*"))


async def test_a_malformed_nfo_is_reported_and_left_untouched(
    publisher: Publisher, providers: Providers, folder: Path
) -> None:
    broken = b"<movie><title>Half typed</title><plot>oops</movie>"
    (folder / f"{STEM}.nfo").write_bytes(broken)
    result = await publisher.publish(request(folder, await arrival(providers)))
    (error,) = result.errors
    assert isinstance(error, NfoMalformed)
    assert str(error).startswith(f"{STEM}.nfo: not well-formed XML")
    assert (folder / f"{STEM}.nfo").read_bytes() == broken
    assert len(result.names("written")) == 3  # the artwork still is


async def test_folder_style_and_movie_nfo(
    server_url: str,
    client: httpx.AsyncClient,
    providers: Providers,
    folder: Path,
    tmp_path: Path,
) -> None:
    settings = settings_for(
        server_url, nfo="movie", artwork_style="folder", artwork=("poster", "discart")
    )
    publisher = Publisher(
        settings,
        client=client,
        store=MemoryPublishStore(),
        content=ContentStore(tmp_path / "assets"),
    )
    result = await publisher.publish(request(folder, await arrival(providers)))
    assert sorted(result.names("written")) == ["discart.png", "movie.nfo", "poster.jpg"]


async def test_unsafe_targets_are_refused(
    publisher: Publisher, providers: Providers, folder: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"precious")
    os.symlink(outside, folder / f"{STEM}-poster.jpg")
    result = await publisher.publish(request(folder, await arrival(providers)))
    assert any(
        isinstance(e, UnsafePath) and "outside the item folder" in str(e) for e in result.errors
    )
    assert outside.read_bytes() == b"precious"
    elsewhere = await publisher.publish(
        PublishRequest(ITEM, MovieMetadata, folder, tmp_path / "other" / "x.mkv", None, WEBHOOK)
    )
    assert [str(e) for e in elsewhere.errors] == [
        f"{tmp_path / 'other' / 'x.mkv'}: video is not inside the item folder"
    ]
    missing = await publisher.publish(
        PublishRequest(ITEM, MovieMetadata, tmp_path / "nope", None, None, WEBHOOK)
    )
    assert "folder not reachable" in str(missing.errors[0])


async def test_a_poster_replaced_by_hand_is_kept_and_locked(
    publisher: Publisher,
    providers: Providers,
    folder: Path,
    store: MemoryPublishStore,
    fake: FakeState,
) -> None:
    meta = await arrival(providers)
    await publisher.publish(request(folder, meta))
    mine = png("my own poster")
    (folder / f"{STEM}-poster.jpg").write_bytes(mine)
    result = await publisher.publish(request(folder, meta))
    assert (f"{STEM}-poster.jpg", "kept", "changed by hand: locked") in [
        (f.name, f.action, f.detail) for f in result.files
    ]
    assert "poster" in store.locks[ITEM].fields
    fake.reset_calls()
    await publisher.publish(request(folder, meta))
    assert (folder / f"{STEM}-poster.jpg").read_bytes() == mine
    assert fake.calls("/img/") == []


async def test_series_and_episode(
    publisher: Publisher, providers: Providers, tmp_path: Path, fake: FakeState
) -> None:
    show = tmp_path / "tv" / "Severance"
    season = show / "Season 02"
    season.mkdir(parents=True)
    video = season / "Severance - S02E03 - Who Is Alive.mkv"
    video.write_bytes(b"video")
    enricher = Enricher(providers)
    series = await enricher.series(UniqueIds(tvdb=371980))
    result = await publisher.publish(
        PublishRequest(ItemRef("series:87"), SeriesMetadata, show, None, series.metadata, None)
    )
    assert result.ok, result.errors
    assert sorted(result.names("written")) == [
        "clearlogo.png",
        "fanart.jpg",
        "poster.jpg",
        "tvshow.nfo",
    ]
    episode = await enricher.episode(UniqueIds(tvdb=371980), 2, 3, show_title="Severance")
    webhook = EpisodeMetadata.from_webhook(
        title="Who Is Alive?", season=2, episode=3, air_date="2025-01-31", show_title="Severance"
    )
    result = await publisher.publish(
        PublishRequest(
            ItemRef("episode:5012"), EpisodeMetadata, season, video, episode.metadata, webhook
        )
    )
    assert result.ok, result.errors
    stem = "Severance - S02E03 - Who Is Alive"
    assert sorted(result.names("written")) == [f"{stem}-thumb.jpg", f"{stem}.nfo"]
    root = parse_nfo((season / f"{stem}.nfo").read_bytes(), "x", EpisodeMetadata).root
    assert (root.findtext("title"), root.findtext("season"), root.findtext("aired")) == (
        "Who Is Alive?",
        "2",
        "2025-01-31",
    )


@pytest.fixture
def server_url(fake: FakeState) -> str:
    return fake.base
