"""The ``webhook`` handler, run by a real JobQueue on a SQLite file under tmp_path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relayarr.app import build_queue
from relayarr.config import Settings
from relayarr.jobqueue import EventKind, Job, JobQueue, JobStatus, StorageEngine, open_storage
from relayarr.pipeline import WEBHOOK

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"


def fixture(name: str) -> object:
    loaded: object = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def stored(source: object, body: object, instance: str | None = None) -> dict[str, object]:
    """A job payload exactly as the web service stores it."""
    return {
        "source": source,
        "instance": instance,
        "received_at": "2025-03-08T21:14:07.123456+00:00",
        "body": body,
    }


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[StorageEngine]:
    storage = await open_storage(f"sqlite:///{tmp_path}/queue.db")
    yield storage
    await storage.aclose()


@pytest.fixture
async def queue(storage: StorageEngine) -> AsyncIterator[JobQueue]:
    # The composition root's queue, so this also proves "webhook" is registered there.
    queue = build_queue(Settings(), storage)
    yield queue
    await queue.stop(timeout=1.0)


async def finish(queue: JobQueue, payload: dict[str, object]) -> Job:
    """Add one webhook job, wait until it completes or fails, return it as stored."""
    events = queue.events.subscribe(kinds={EventKind.COMPLETED, EventKind.FAILED})
    await queue.start()
    job = await queue.add_job(WEBHOOK, payload, priority=1)
    async with asyncio.timeout(5.0):
        async for event in events:
            if event.job_id == job.id:
                break
    return await queue.get_job(job.id)


def test_the_composition_root_registers_the_webhook_handler(queue: JobQueue) -> None:
    assert WEBHOOK in queue.handled_types()


async def test_a_radarr_download_completes_with_its_summary(queue: JobQueue) -> None:
    done = await finish(queue, stored("radarr", fixture("radarr/download.json")))
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 1)
    assert isinstance(done.result, dict)
    assert done.result["source"] == "radarr"
    assert done.result["event"] == "Download"
    assert done.result["title"] == "Arrival"
    assert done.result["ids"] == {"tmdb": 329865, "imdb": "tt2543164"}
    paths = done.result["paths"]
    assert isinstance(paths, list)
    assert "/data/media/movies/Arrival (2016)" in paths
    assert "endpoint_instance" not in done.result


async def test_a_sonarr_import_complete_names_its_files_and_the_url_instance(
    queue: JobQueue,
) -> None:
    body = fixture("sonarr/download_import_complete.json")
    done = await finish(queue, stored("sonarr", body, instance="anime"))
    assert isinstance(done.result, dict)
    assert done.result["event"] == "Download"
    assert done.result["import_complete"] is True
    assert done.result["episodes"] == ["S02E03", "S02E04"]
    assert done.result["endpoint_instance"] == "anime"


async def test_an_unknown_event_completes_as_unknown(queue: JobQueue) -> None:
    done = await finish(queue, stored("sonarr", {"eventType": "SomethingNew", "series": {}}))
    assert done.status is JobStatus.COMPLETED
    assert isinstance(done.result, dict)
    assert (done.result["event"], done.result["known"]) == ("SomethingNew", False)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(
            stored("radarr", {"eventType": "Download", "movie": {"folderPath": 7}}),
            "stored radarr webhook no longer parses: movie.folderPath: "
            "Input should be a valid string",
            id="body-no-longer-parses",
        ),
        pytest.param(
            stored("lidarr", {"eventType": "Test"}),
            "webhook job has no known source: 'lidarr'",
            id="unknown-source",
        ),
        pytest.param(
            {"source": "radarr", "instance": None},
            "webhook job has no body",
            id="no-body",
        ),
    ],
)
async def test_a_job_that_cannot_parse_fails_at_once(
    queue: JobQueue, payload: dict[str, object], message: str
) -> None:
    failed = await finish(queue, payload)
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 1)
    assert failed.last_error is not None
    assert message in failed.last_error
