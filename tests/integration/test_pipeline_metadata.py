"""Metadata in the chain, on real folders with a real SQLite queue and library database:
webhook -> scan -> enrich -> publish -> notify-players, against the fake TMDB, fanart.tv
and image servers over loopback (tests/integration/metadata/fakes.py) and without any
provider; provider outages, bad NFOs and bad images that never stop the players being
told; upgrades that delete the artwork; and your edits (the PATCH API and the CLI's
verb) surviving re-enrichment and upgrades."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from metadata.fakes import FANART_KEY, TMDB_KEY, FakeState, Fault, LoopbackServer
from pipeline_world import ARR_MOVIES, ARRIVAL_NEW, ARRIVAL_OLD, World, fixture, world

from relayarr.config import ServerSettings
from relayarr.jobqueue import Job, JobStatus
from relayarr.library.db.metastore import movie_ref
from relayarr.pipeline import ENRICH, NOTIFY_PLAYERS, PUBLISH, SCAN_MOVIE, SCAN_SERIES
from relayarr.web import create_app

FIXTURES = Path(__file__).parent.parent / "fixtures" / "metadata"
TMDB_MOVIE = json.loads((FIXTURES / "tmdb_movie_329865.json").read_text(encoding="utf-8"))
WEBHOOK_PLOT = "A linguist is recruited by the military to communicate with alien visitors."
KEY = "metadata-test-key-0123456789"
NEW, OLD = Path(ARRIVAL_NEW).stem, Path(ARRIVAL_OLD).stem
EPISODE = "Severance - S02E03 - Who Is Alive [WEBDL-2160p].mkv"


@pytest.fixture(scope="module")
def providers() -> Iterator[LoopbackServer]:
    with LoopbackServer(FakeState()) as running:
        yield running


@pytest.fixture
def fake(providers: LoopbackServer) -> FakeState:
    """The fakes' state, fresh for each test."""
    state = providers.state
    state.__init__()  # type: ignore[misc]
    state.base = providers.url
    return state


def with_metadata(base: str | None, **extra: object) -> Callable[[dict[str, Any]], None]:
    """A ``[metadata]`` section: the fakes' keys and URLs with ``base``, none without."""

    def tweak(config: dict[str, Any]) -> None:
        section: dict[str, object] = {"timeout": 5.0, "retries": 0, "enrich_retry_seconds": 0.3}
        if base is not None:
            section.update(
                tmdb_api_key=TMDB_KEY,
                fanart_api_key=FANART_KEY,
                tmdb_url=f"{base}/tmdb/3",
                tmdb_image_url=f"{base}/img/tmdb/",
                fanart_url=f"{base}/fanart/v3",
            )
        section.update(extra)
        config["metadata"] = section

    return tweak


def download(
    base: str, video: str = ARRIVAL_NEW, replaced: str | None = None, images: bool = True
) -> dict[str, Any]:
    """Radarr's Download of Arrival, its images served by the fake image server."""
    body = fixture("radarr/download.json")
    body["movieFile"].update(relativePath=video, path=f"{ARR_MOVIES}/Arrival (2016)/{video}")
    body["isUpgrade"] = replaced is not None
    body["deletedFiles"] = []
    if replaced is not None:
        old = fixture("radarr/download.json")["deletedFiles"][0]
        old.update(relativePath=replaced, path=f"{ARR_MOVIES}/Arrival (2016)/{replaced}")
        body["deletedFiles"] = [old]
    for image in body["movie"]["images"]:
        image["remoteUrl"] = f"{base}/img/webhook/{image['coverType']}.jpg"
    if not images:
        body["movie"]["images"] = []
    return body


def result(job: Job) -> dict[str, Any]:
    assert isinstance(job.result, dict), job
    return job.result


async def run(w: World, body: dict[str, Any]) -> Job:
    if not w.queue.running:
        await w.queue.start()
    job = await w.webhook("radarr", body)
    await w.settle()
    return await w.queue.get_job(job.id)


async def chain(w: World, job: Job) -> list[Job]:
    """Every job under ``job``, depth first, in the order they were added."""
    found = []
    for child in await w.children(job):
        found.append(child)
        found.extend(await chain(w, child))
    return found


def nfo(folder: Path, stem: str = NEW) -> str:
    return (folder / f"{stem}.nfo").read_text(encoding="utf-8")


async def movie_id(w: World) -> int:
    (movie,) = (await w.store.list_movies()).items
    identifier: int = movie.id
    return identifier


@asynccontextmanager
async def api(w: World) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(w.queue, ServerSettings(), api_key=KEY, services=w.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://relayarr.test", headers={"X-Api-Key": KEY}
    ) as client:
        yield client


# -- the chain -------------------------------------------------------------------------------


async def test_with_tmdb_an_import_is_enriched_published_and_then_told(
    tmp_path: Path, fake: FakeState
) -> None:
    async with world(tmp_path, tweak=with_metadata(fake.base)) as w:
        folder = w.arrival(ARRIVAL_NEW)
        done = await run(w, download(fake.base))
        jobs = await chain(w, done)
        assert [(j.type, j.status) for j in jobs] == [
            (SCAN_MOVIE, JobStatus.COMPLETED),
            (ENRICH, JobStatus.COMPLETED),
            (PUBLISH, JobStatus.COMPLETED),
            (NOTIFY_PLAYERS, JobStatus.COMPLETED),
        ]
        scan, enrich, publish, notify = jobs
        assert (enrich.parent_id, publish.parent_id, notify.parent_id) == (
            scan.id,
            enrich.id,
            publish.id,
        )
        assert result(enrich)["enriched"]["movie"]["sources"] == ["tmdb", "fanart.tv"]
        written = result(publish)["published"]["movie"]["files"]["written"]
        assert sorted(written) == sorted(
            [f"{NEW}.nfo", f"{NEW}-poster.jpg", f"{NEW}-fanart.jpg", f"{NEW}-clearlogo.png"]
        )
        assert result(publish)["errors"] == []
        text = nfo(folder)
        assert "<title>Arrival</title>" in text
        assert f"<plot>{TMDB_MOVIE['overview']}</plot>" in text
        assert "<tagline>Why are they here?</tagline>" in text
        assert (folder / f"{NEW}-poster.jpg").read_bytes().startswith(b"\xff\xd8\xff")
        assert result(notify)["would_tell"]["action"] == "added"
        # The library remembers what was published and which jobs touched the movie.
        identifier = await movie_id(w)
        state = await w.store.metadata.state(movie_ref(identifier))
        assert state.published is not None
        assert state.published["plot"] == TMDB_MOVIE["overview"]
        detail = await w.store.get_movie(identifier)
        assert {link.job_type for link in detail.jobs} >= {SCAN_MOVIE, ENRICH, PUBLISH}


async def test_without_a_provider_the_webhook_is_published(tmp_path: Path, fake: FakeState) -> None:
    async with world(tmp_path, tweak=with_metadata(None, artwork_style="folder")) as w:
        folder = w.arrival(ARRIVAL_NEW)
        done = await run(w, download(fake.base))
        _scan, enrich, _publish, notify = await chain(w, done)
        assert result(enrich)["note"].startswith("no provider key configured")
        assert notify.type == NOTIFY_PLAYERS
        assert notify.status is JobStatus.COMPLETED
        text = nfo(folder)
        assert "<title>Arrival</title>" in text
        assert "<year>2016</year>" in text
        assert f"<plot>{WEBHOOK_PLOT}</plot>" in text
        assert "<genre>Science Fiction</genre>" in text
        assert '<uniqueid type="tmdb" default="true">329865</uniqueid>' in text
        assert (folder / "poster.jpg").read_bytes().startswith(b"\xff\xd8\xff")
        assert (folder / "fanart.jpg").is_file()
        assert not fake.calls("/tmdb")
        assert not fake.calls("/fanart")
        assert sorted(r.path for r in fake.calls("/img")) == [
            "/img/webhook/fanart.jpg",
            "/img/webhook/poster.jpg",
        ]


async def test_the_existing_nfo_fills_what_the_webhook_lacks(
    tmp_path: Path, fake: FakeState
) -> None:
    async with world(tmp_path, tweak=with_metadata(None)) as w:
        folder = w.arrival(ARRIVAL_NEW)
        (folder / f"{NEW}.nfo").write_text(
            "<movie><title>Arrival</title><tagline>Why are they here?</tagline>"
            "<playcount>3</playcount></movie>",
            encoding="utf-8",
        )
        await run(w, download(fake.base, images=False))
        text = nfo(folder)
        assert "<tagline>Why are they here?</tagline>" in text  # from the NFO
        assert f"<plot>{WEBHOOK_PLOT}</plot>" in text  # from the webhook
        assert "<playcount>3</playcount>" in text  # not managed: kept


async def test_without_metadata_the_scan_tells_the_players_directly(
    tmp_path: Path, fake: FakeState
) -> None:
    async with world(tmp_path, tweak=with_metadata(fake.base, nfo="off", artwork=[])) as w:
        folder = w.arrival(ARRIVAL_NEW)
        done = await run(w, download(fake.base))
        assert [j.type for j in await chain(w, done)] == [SCAN_MOVIE, NOTIFY_PLAYERS]
        assert sorted(p.name for p in folder.iterdir()) == [ARRIVAL_NEW]
        assert not fake.requests


async def test_a_provider_outage_never_holds_the_players_and_enrichment_catches_up(
    tmp_path: Path, fake: FakeState
) -> None:
    fake.fault("/tmdb/3/movie/329865", Fault(status=503), Fault(status=503))
    async with world(tmp_path, tweak=with_metadata(fake.base)) as w:
        folder = w.arrival(ARRIVAL_NEW)
        done = await run(w, download(fake.base))
        jobs = await chain(w, done)
        scan, enrich = jobs[0], jobs[1]
        # The chain went on with the webhook's values and told the players...
        failures = result(enrich)["enriched"]["movie"]["failures"]
        assert [(f["provider"], f["kind"]) for f in failures] == [("tmdb", "unavailable")]
        first_publish, retry = await w.children(enrich)
        assert (first_publish.type, retry.type) == (PUBLISH, ENRICH)
        (told,) = await w.children(first_publish)
        assert result(told)["would_tell"]["action"] == "added"
        # ...and the enrichment was tried again on its own until TMDB answered.
        assert retry.payload["reason"] == "retry"
        retry = await w.queue.get_job(retry.id)
        assert retry.status is JobStatus.COMPLETED
        assert retry.attempts == 2, retry.last_error
        (late_publish,) = await w.children(retry)
        (changed,) = await w.children(late_publish)
        assert result(changed)["would_tell"]["action"] == "changed"
        assert f"<plot>{TMDB_MOVIE['overview']}</plot>" in nfo(folder)
        assert scan.status is JobStatus.COMPLETED


async def test_a_malformed_nfo_and_a_bad_image_are_reported_and_the_chain_goes_on(
    tmp_path: Path, fake: FakeState
) -> None:
    fake.images["webhook/poster.jpg"] = (b"<html>not found</html>", "text/html")
    async with world(tmp_path, tweak=with_metadata(None)) as w:
        folder = w.arrival(ARRIVAL_NEW)
        broken = "<movie><title>Half an edit</movie>"
        (folder / f"{NEW}.nfo").write_text(broken, encoding="utf-8")
        done = await run(w, download(fake.base))
        _scan, _enrich, publish, notify = await chain(w, done)
        assert publish.status is JobStatus.COMPLETED
        errors = result(publish)["errors"]
        assert any(e.startswith(f"{NEW}.nfo: not well-formed XML") for e in errors), errors
        assert any("not an image: served as text/html" in e for e in errors), errors
        assert nfo(folder) == broken  # a hand edit half done is never overwritten
        assert (folder / f"{NEW}-fanart.jpg").is_file()  # the rest is published
        assert not (folder / f"{NEW}-poster.jpg").exists()
        assert notify.status is JobStatus.COMPLETED


async def test_an_upgrade_that_deleted_the_artwork_and_nfo_restores_them_without_providers(
    tmp_path: Path, fake: FakeState
) -> None:
    async with world(tmp_path, tweak=with_metadata(fake.base)) as w:
        folder = w.arrival(ARRIVAL_OLD)
        await run(w, download(fake.base, video=ARRIVAL_OLD))
        assert "<title>Arrival</title>" in nfo(folder, OLD)
        poster = (folder / f"{OLD}-poster.jpg").read_bytes()
        # Radarr imports the better file and deletes the old one with its extra files.
        for name in (ARRIVAL_OLD, f"{OLD}.nfo", f"{OLD}-poster.jpg", f"{OLD}-fanart.jpg"):
            (folder / name).unlink()
        (folder / f"{OLD}-clearlogo.png").unlink()
        w.arrival(ARRIVAL_NEW)
        fake.reset_calls()
        done = await run(w, download(fake.base, replaced=ARRIVAL_OLD))
        jobs = await chain(w, done)
        assert [j.type for j in jobs][:3] == [SCAN_MOVIE, ENRICH, PUBLISH]
        assert all(j.status is JobStatus.COMPLETED for j in jobs)
        assert fake.requests == []  # answers from the cache, images from protected copies
        assert "<title>Arrival</title>" in nfo(folder)
        assert (folder / f"{NEW}-poster.jpg").read_bytes() == poster
        assert (folder / f"{NEW}-clearlogo.png").is_file()
        assert not list(folder.glob(f"{OLD}*"))
        actions = [result(j)["would_tell"]["action"] for j in jobs if j.type == NOTIFY_PLAYERS]
        assert sorted(actions) == ["changed", "removed"]


async def test_files_deleted_from_the_folder_come_back_at_the_next_publish(
    tmp_path: Path, fake: FakeState
) -> None:
    async with world(tmp_path, tweak=with_metadata(fake.base, artwork_style="folder")) as w:
        folder = w.arrival(ARRIVAL_NEW)
        await run(w, download(fake.base))
        kept = {name: (folder / name).read_bytes() for name in (f"{NEW}.nfo", "poster.jpg")}
        for name in kept:
            (folder / name).unlink()
        fake.reset_calls()
        done = await run(w, download(fake.base))
        publish = next(j for j in await chain(w, done) if j.type == PUBLISH)
        restored = result(publish)["published"]["movie"]["files"]["restored"]
        assert sorted(restored) == sorted(kept)
        assert {name: (folder / name).read_bytes() for name in kept} == kept
        assert fake.requests == []


async def test_a_sonarr_import_publishes_the_show_and_its_episode(
    tmp_path: Path, fake: FakeState
) -> None:
    tmdb_show = json.loads((FIXTURES / "tmdb_tv_95396.json").read_text(encoding="utf-8"))
    async with world(tmp_path, tweak=with_metadata(fake.base)) as w:
        show = w.tv / "Severance"
        episode = show / "Season 02" / EPISODE
        episode.parent.mkdir(parents=True)
        episode.write_bytes(b"\0" * 64)
        await w.queue.start()
        done = await w.webhook("sonarr", fixture("sonarr/download_episode_file.json"))
        await w.settle()
        jobs = await chain(w, await w.queue.get_job(done.id))
        assert [j.type for j in jobs] == [SCAN_SERIES, ENRICH, PUBLISH, NOTIFY_PLAYERS]
        enriched = result(jobs[1])["enriched"]
        assert sorted(enriched) == ["S02E03", "series"]
        tvshow = (show / "tvshow.nfo").read_text(encoding="utf-8")
        assert "<title>Severance</title>" in tvshow
        assert f"<plot>{tmdb_show['overview']}</plot>" in tvshow
        assert (show / "poster.jpg").is_file()
        stem = episode.with_suffix("")
        details = Path(f"{stem}.nfo").read_text(encoding="utf-8")
        assert "<title>Who Is Alive?</title>" in details
        assert "<season>2</season>" in details
        assert "<episode>3</episode>" in details
        assert "<showtitle>Severance</showtitle>" in details
        assert Path(f"{stem}-thumb.jpg").is_file()
        # The show's own fields are edited through the series route.
        (series,) = (await w.store.list_series()).items
        async with api(w) as client:
            answer = await client.patch(
                f"/api/v1/library/series/{series.id}", json={"fields": {"status": "Ended"}}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["locks"] == ["status"]
            await w.settle()
        assert "<status>Ended</status>" in (show / "tvshow.nfo").read_text(encoding="utf-8")
        assert Path(f"{stem}.nfo").read_text(encoding="utf-8") == details


async def test_without_a_provider_an_episode_gets_the_webhooks_title(
    tmp_path: Path, fake: FakeState
) -> None:
    async with world(tmp_path, tweak=with_metadata(None, artwork=[])) as w:
        show = w.tv / "Severance"
        episode = show / "Season 02" / EPISODE
        episode.parent.mkdir(parents=True)
        episode.write_bytes(b"\0" * 64)
        await w.queue.start()
        await w.webhook("sonarr", fixture("sonarr/download_episode_file.json"))
        await w.settle()
        assert "<title>Severance</title>" in (show / "tvshow.nfo").read_text(encoding="utf-8")
        details = episode.with_suffix(".nfo").read_text(encoding="utf-8")
        assert "<title>Who Is Alive?</title>" in details
        assert "<aired>2025-01-31</aired>" in details
        assert sorted(p.name for p in episode.parent.iterdir()) == sorted(
            [EPISODE, episode.with_suffix(".nfo").name]
        )


# -- your edits win ------------------------------------------------------------------------------


async def test_an_edited_title_is_published_and_survives_re_enrichment_and_an_upgrade(
    tmp_path: Path, fake: FakeState
) -> None:
    async with world(tmp_path, tweak=with_metadata(fake.base)) as w:
        folder = w.arrival(ARRIVAL_OLD)
        await run(w, download(fake.base, video=ARRIVAL_OLD))
        identifier = await movie_id(w)
        async with api(w) as client:
            answer = await client.patch(
                f"/api/v1/library/movies/{identifier}",
                json={
                    "fields": {"title": "Arrival (Director's Cut)", "genres": ["Drama"]},
                    "locks": {"poster": True},
                },
            )
            assert answer.status_code == 200, answer.text
            edited = answer.json()
            assert edited["locks"] == ["genres", "poster", "title"]
            assert edited["fields"]["title"] == "Arrival (Director's Cut)"
            assert edited["fields"]["plot"] == TMDB_MOVIE["overview"]
            await w.settle()
            publish = await w.queue.get_job(edited["publish_job"])
            assert publish.status is JobStatus.COMPLETED, publish.last_error
            assert "<title>Arrival (Director's Cut)</title>" in nfo(folder, OLD)
            assert "<genre>Mystery</genre>" not in nfo(folder, OLD)
            (changed,) = await w.children(publish)
            assert result(changed)["would_tell"]["action"] == "changed"
            # Re-enrichment: the same import again; TMDB still says "Arrival".
            await run(w, download(fake.base, video=ARRIVAL_OLD))
            assert "<title>Arrival (Director's Cut)</title>" in nfo(folder, OLD)
            # An upgrade: a new file, the old one and its NFO deleted.
            (folder / ARRIVAL_OLD).unlink()
            (folder / f"{OLD}.nfo").unlink()
            w.arrival(ARRIVAL_NEW)
            await run(w, download(fake.base, replaced=ARRIVAL_OLD))
            text = nfo(folder)
            assert "<title>Arrival (Director's Cut)</title>" in text
            assert "<genre>Drama</genre>" in text
            assert "<genre>Mystery</genre>" not in text
            assert f"<plot>{TMDB_MOVIE['overview']}</plot>" in text
            detail = (await client.get(f"/api/v1/library/movies/{identifier}")).json()
            assert detail["metadata"]["locks"] == ["genres", "poster", "title"]
            assert detail["metadata"]["fields"]["title"] == "Arrival (Director's Cut)"
            # Unlocked, the title is the provider's again.
            answer = await client.patch(
                f"/api/v1/library/movies/{identifier}", json={"locks": {"title": False}}
            )
            assert answer.json()["locks"] == ["genres", "poster"]
            await w.settle()
            assert "<title>Arrival</title>" in nfo(folder)


async def test_a_hand_edit_of_the_nfo_is_kept_and_locked(tmp_path: Path, fake: FakeState) -> None:
    async with world(tmp_path, tweak=with_metadata(fake.base)) as w:
        folder = w.arrival(ARRIVAL_NEW)
        await run(w, download(fake.base))
        text = nfo(folder).replace("<title>Arrival</title>", "<title>Mine</title>")
        (folder / f"{NEW}.nfo").write_text(text, encoding="utf-8")
        await run(w, download(fake.base))
        assert "<title>Mine</title>" in nfo(folder)
        state = await w.store.metadata.state(movie_ref(await movie_id(w)))
        assert "title" in state.locks.fields


async def test_bad_edits_are_refused_naming_the_fields(tmp_path: Path, fake: FakeState) -> None:
    async with world(tmp_path, tweak=with_metadata(fake.base)) as w:
        w.arrival(ARRIVAL_NEW)
        await run(w, download(fake.base))
        identifier = await movie_id(w)
        async with api(w) as client:
            url = f"/api/v1/library/movies/{identifier}"
            answer = await client.patch(
                url,
                json={
                    "fields": {"titel": "x", "year": "2016", "genres": "Drama", "poster": "x"},
                    "locks": {"colour": True},
                },
            )
            assert answer.status_code == 422
            error = answer.json()["error"]
            assert error["code"] == "invalid_edit"
            assert [f["loc"] for f in error["fields"]] == [
                "fields.titel",
                "fields.year",
                "fields.genres",
                "fields.poster",
                "locks.colour",
            ]
            assert "fields.titel: unknown field" in error["message"]
            conflict = await client.patch(
                url, json={"fields": {"title": "x"}, "locks": {"title": False}}
            )
            assert conflict.status_code == 422
            assert (await client.patch(url, json={"color": 1})).status_code == 422
            missing = await client.patch("/api/v1/library/movies/999", json={"locks": {}})
            assert missing.status_code == 404
            # Nothing was changed by the refused edits.
            state = await w.store.metadata.state(movie_ref(identifier))
            assert state.locks.fields == frozenset()
