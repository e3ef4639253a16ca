"""Webhooks of every event type of both apps, normalised into one MediaEvent each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from relayarr.arr import Source, parse_webhook
from relayarr.arr.media import Action, MediaEvent, MediaKind, RenamedPath, media_event

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"
ARRIVAL = "/data/media/movies/Arrival (2016)"
SEVERANCE = "/data/media/tv/Severance"


def load(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return body


def normalise(name: str, instance: str | None = None) -> MediaEvent:
    source = Source.RADARR if name.startswith("radarr/") else Source.SONARR
    return media_event(parse_webhook(source, load(name)), instance)


@pytest.mark.parametrize(
    ("fixture", "action"),
    [
        ("radarr/download.json", Action.SCAN),
        ("radarr/rename.json", Action.SCAN),
        ("radarr/movie_delete.json", Action.REMOVE),
        ("radarr/movie_file_delete.json", Action.RECORD),  # deleteReason "upgrade"
        ("radarr/movie_added.json", Action.RECORD),
        ("radarr/grab.json", Action.RECORD),
        ("radarr/health.json", Action.RECORD),
        ("radarr/health_restored.json", Action.RECORD),
        ("radarr/application_update.json", Action.RECORD),
        ("radarr/manual_interaction_required.json", Action.RECORD),
        ("radarr/test.json", Action.RECORD),
        ("sonarr/download_episode_file.json", Action.SCAN),
        ("sonarr/download_import_complete.json", Action.SCAN),
        ("sonarr/rename.json", Action.SCAN),
        ("sonarr/episode_file_delete.json", Action.REMOVE),
        ("sonarr/series_delete.json", Action.REMOVE),
        ("sonarr/series_add.json", Action.RECORD),
        ("sonarr/grab.json", Action.RECORD),
        ("sonarr/health.json", Action.RECORD),
        ("sonarr/health_restored.json", Action.RECORD),
        ("sonarr/application_update.json", Action.RECORD),
        ("sonarr/manual_interaction_required.json", Action.RECORD),
        ("sonarr/test.json", Action.RECORD),
    ],
)
def test_every_event_type_is_routed(fixture: str, action: Action) -> None:
    event = normalise(fixture)
    assert event.action is action
    assert MediaEvent.from_json(event.to_json()) == event


def test_a_radarr_upgrade_names_the_new_file_and_the_replaced_one() -> None:
    event = normalise("radarr/download.json")
    assert (event.kind, event.folder, event.upgrade) == (MediaKind.MOVIE, ARRIVAL, True)
    assert event.files == (f"{ARRIVAL}/Arrival (2016) {{imdb-tt2543164}} [Bluray-2160p].mkv",)
    assert event.removed == (f"{ARRIVAL}/Arrival (2016) {{imdb-tt2543164}} [Bluray-1080p].mkv",)
    assert (event.ids.tmdb, event.ids.imdb) == (329865, "tt2543164")
    assert event.title == "Arrival"
    assert {a.type for a in event.artwork} == {"poster", "fanart"}


def test_a_movie_file_without_path_is_the_folder_plus_its_relative_path() -> None:
    body = load("radarr/download.json")
    del body["movieFile"]["path"]
    event = media_event(parse_webhook(Source.RADARR, body))
    assert event.files == (f"{ARRIVAL}/Arrival (2016) {{imdb-tt2543164}} [Bluray-2160p].mkv",)


def test_a_windows_folder_joins_its_relative_path_with_backslashes() -> None:
    body = load("radarr/download.json")
    body["movie"]["folderPath"] = "D:\\Movies\\Arrival (2016)"
    del body["movieFile"]["path"]
    body["deletedFiles"] = []
    event = media_event(parse_webhook(Source.RADARR, body))
    assert event.files == (
        "D:\\Movies\\Arrival (2016)\\Arrival (2016) {imdb-tt2543164} [Bluray-2160p].mkv",
    )


def test_sonarr_batch_import_lists_every_file_and_episode() -> None:
    event = normalise("sonarr/download_import_complete.json")
    assert (event.kind, event.folder) == (MediaKind.SERIES, SEVERANCE)
    assert len(event.files) == 2
    assert [e.label() for e in event.episodes] == ["S02E03", "S02E04"]


def test_a_rename_pairs_old_and_new_paths() -> None:
    event = normalise("sonarr/rename.json")
    assert event.renamed == (
        RenamedPath(
            old=f"{SEVERANCE}/Season 02/severance.s02e03.mkv",
            new=f"{SEVERANCE}/Season 02/Severance - S02E03 - Who Is Alive [WEBDL-2160p].mkv",
        ),
    )
    assert event.removed == (f"{SEVERANCE}/Season 02/severance.s02e03.mkv",)


def test_a_manual_file_delete_is_a_removal_of_that_file() -> None:
    body = load("radarr/movie_file_delete.json")
    body["deleteReason"] = "manual"
    event = media_event(parse_webhook(Source.RADARR, body))
    assert event.action is Action.REMOVE
    assert event.reason == "manual"
    assert len(event.removed) == 1


def test_a_whole_series_delete_is_a_removal_of_the_item() -> None:
    event = normalise("sonarr/series_delete.json")
    assert (event.whole_item, event.files_deleted, event.folder) == (True, True, SEVERANCE)


def test_an_unknown_event_is_recorded() -> None:
    event = media_event(parse_webhook(Source.RADARR, {"eventType": "SomethingNew"}))
    assert (event.action, event.kind, event.folder) == (Action.RECORD, None, None)


def test_the_mapping_source_names_the_url_instance() -> None:
    assert normalise("radarr/download.json").mapping_source == "radarr"
    assert normalise("radarr/download.json", "4k").mapping_source == "radarr/4k"
