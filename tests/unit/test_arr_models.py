"""parse_webhook and the Radarr/Sonarr models, on the fixture bodies in tests/fixtures/arr."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relayarr.arr import (
    ArrPayload,
    MediaPaths,
    RadarrApplicationUpdate,
    RadarrDownload,
    RadarrGrab,
    RadarrHealth,
    RadarrManualInteractionRequired,
    RadarrMovieAdded,
    RadarrMovieDelete,
    RadarrMovieFileDelete,
    RadarrRename,
    RadarrTest,
    SonarrApplicationUpdate,
    SonarrDownload,
    SonarrEpisodeFileDelete,
    SonarrGrab,
    SonarrHealth,
    SonarrImportComplete,
    SonarrManualInteractionRequired,
    SonarrRename,
    SonarrSeriesAdd,
    SonarrSeriesDelete,
    SonarrTest,
    Source,
    UnknownEvent,
    parse_webhook,
)
from relayarr.arr.radarr import RADARR_EVENTS
from relayarr.arr.sonarr import SONARR_EVENTS
from relayarr.errors import FieldError, PayloadInvalid

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"

# Fixture bodies are nested JSON that tests edit in place; Any keeps those edits readable.
Body = dict[str, Any]


def body(name: str) -> Body:
    loaded: Body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def source_of(name: str) -> Source:
    return Source(name.split("/")[0])


def errors_of(source: Source, payload: object) -> list[FieldError]:
    with pytest.raises(PayloadInvalid) as caught:
        parse_webhook(source, payload)
    return caught.value.errors


EXPECTED_MODELS: dict[str, type[ArrPayload]] = {
    "radarr/test.json": RadarrTest,
    "radarr/grab.json": RadarrGrab,
    "radarr/download.json": RadarrDownload,
    "radarr/rename.json": RadarrRename,
    "radarr/movie_added.json": RadarrMovieAdded,
    "radarr/movie_delete.json": RadarrMovieDelete,
    "radarr/movie_file_delete.json": RadarrMovieFileDelete,
    "radarr/health.json": RadarrHealth,
    "radarr/health_restored.json": RadarrHealth,
    "radarr/application_update.json": RadarrApplicationUpdate,
    "radarr/manual_interaction_required.json": RadarrManualInteractionRequired,
    "sonarr/test.json": SonarrTest,
    "sonarr/grab.json": SonarrGrab,
    "sonarr/download_episode_file.json": SonarrDownload,
    "sonarr/download_import_complete.json": SonarrImportComplete,
    "sonarr/rename.json": SonarrRename,
    "sonarr/series_add.json": SonarrSeriesAdd,
    "sonarr/series_delete.json": SonarrSeriesDelete,
    "sonarr/episode_file_delete.json": SonarrEpisodeFileDelete,
    "sonarr/health.json": SonarrHealth,
    "sonarr/health_restored.json": SonarrHealth,
    "sonarr/application_update.json": SonarrApplicationUpdate,
    "sonarr/manual_interaction_required.json": SonarrManualInteractionRequired,
}
FIXTURE_NAMES = sorted(EXPECTED_MODELS)


# -- every event of both apps ----------------------------------------------------------------


def test_there_is_a_fixture_for_every_event_type_of_both_apps() -> None:
    on_disk = {f"{p.parent.name}/{p.name}" for p in FIXTURES.glob("*/*.json")}
    assert on_disk == set(EXPECTED_MODELS)
    for source, events in ((Source.RADARR, RADARR_EVENTS), (Source.SONARR, SONARR_EVENTS)):
        sent = {body(n)["eventType"] for n in FIXTURE_NAMES if source_of(n) is source}
        assert sent == set(events)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_parses_into_its_model(name: str) -> None:
    raw = body(name)
    event = parse_webhook(source_of(name), raw)
    assert type(event.payload) is EXPECTED_MODELS[name]
    assert event.source is source_of(name)
    assert event.event_type == raw["eventType"]
    assert event.known
    assert event.is_test == name.endswith("/test.json")
    assert event.instance_name == raw["instanceName"]
    assert json.loads(json.dumps(event.summary())) == event.summary()  # plain JSON


def test_a_plain_string_source_works_too() -> None:
    event = parse_webhook("radarr", body("radarr/test.json"))  # type: ignore[arg-type]
    assert event.source is Source.RADARR


# -- tolerance ------------------------------------------------------------------------------


def test_unknown_fields_are_ignored_at_every_level() -> None:
    raw = body("radarr/download.json")
    noisy = copy.deepcopy(raw)
    noisy["brandNewField"] = {"any": ["thing"]}
    noisy["movie"]["collection"] = {"title": "Villeneuve"}
    noisy["movieFile"]["mediaInfo"]["hdrFormat"] = 12
    noisy["deletedFiles"][0]["extra"] = None
    assert parse_webhook(Source.RADARR, noisy).payload == parse_webhook(Source.RADARR, raw).payload


@pytest.mark.parametrize(
    ("source", "event_type"),
    [
        (Source.RADARR, "MovieRenamed2099"),
        (Source.RADARR, "SeriesAdd"),  # a Sonarr event sent to the Radarr endpoint
        (Source.SONARR, "MovieAdded"),
        (Source.SONARR, ""),
    ],
)
def test_an_unknown_event_type_is_recorded_not_refused(source: Source, event_type: str) -> None:
    event = parse_webhook(source, {"eventType": event_type, "instanceName": "Main", "x": [1]})
    assert (event.known, event.is_test, event.event_type) == (False, False, event_type)
    assert type(event.payload) is UnknownEvent
    assert event.summary() == {
        "source": source.value,
        "event": event_type,
        "instance": "Main",
        "known": False,
        "title": None,
        "paths": [],
        "ids": {},
    }


@pytest.mark.parametrize("event_type", [*RADARR_EVENTS])
def test_informational_radarr_events_need_nothing_but_their_type(event_type: str) -> None:
    if event_type in {"Download", "Rename", "MovieDelete", "MovieFileDelete"}:
        assert errors_of(Source.RADARR, {"eventType": event_type}) == [
            FieldError("movie", "Field required")
        ]
    else:
        assert parse_webhook(Source.RADARR, {"eventType": event_type}).known


@pytest.mark.parametrize("event_type", [*SONARR_EVENTS])
def test_informational_sonarr_events_need_nothing_but_their_type(event_type: str) -> None:
    if event_type in {"Download", "Rename", "SeriesDelete", "EpisodeFileDelete"}:
        assert errors_of(Source.SONARR, {"eventType": event_type}) == [
            FieldError("series", "Field required")
        ]
    else:
        assert parse_webhook(Source.SONARR, {"eventType": event_type}).known


def test_explicit_nulls_read_as_absent() -> None:
    raw = {
        "eventType": "Download",
        "instanceName": None,
        "movie": {"folderPath": "/m/A (1)", "title": None, "tmdbId": None, "genres": None},
        "movieFile": None,
        "isUpgrade": None,
        "deletedFiles": None,
        "release": {"indexerFlags": None, "size": None},
    }
    event = parse_webhook(Source.RADARR, raw)
    assert isinstance(event.payload, RadarrDownload)
    assert (event.payload.is_upgrade, event.payload.deleted_files) == (False, ())
    assert event.payload.movie.genres == ()
    assert event.instance_name is None
    assert event.summary()["paths"] == ["/m/A (1)"]


def test_a_null_required_object_is_reported_missing() -> None:
    errors = errors_of(Source.SONARR, {"eventType": "SeriesDelete", "series": None})
    assert errors == [FieldError("series", "Field required")]


def test_zero_ids_and_years_mean_unknown() -> None:
    event = parse_webhook(Source.SONARR, body("sonarr/test.json"))
    assert event.ids().as_json() == {"tvdb": 1234}
    assert "year" not in event.summary()


def test_sonarr_v3_quality_objects_read_as_their_name() -> None:
    raw = body("sonarr/episode_file_delete.json")
    raw["episodeFile"]["quality"] = {"quality": {"id": 19, "name": "Bluray-2160p"}, "revision": {}}
    event = parse_webhook(Source.SONARR, raw)
    assert isinstance(event.payload, SonarrEpisodeFileDelete)
    assert event.payload.episode_file is not None
    assert event.payload.episode_file.quality == "Bluray-2160p"


# -- what relayarr needs to act -------------------------------------------------------------


def test_a_radarr_download_needs_the_movie_folder_or_the_file_path() -> None:
    raw = body("radarr/download.json")
    del raw["movie"]["folderPath"]
    assert parse_webhook(Source.RADARR, raw).paths().files  # the file path is enough
    del raw["movieFile"]["path"]
    assert errors_of(Source.RADARR, raw) == [
        FieldError("movie.folderPath", "Field required (or movieFile.path)")
    ]


@pytest.mark.parametrize(
    ("name", "remove", "loc"),
    [
        ("radarr/movie_delete.json", "folderPath", "movie.folderPath"),
        ("sonarr/series_delete.json", "path", "series.path"),
    ],
)
def test_a_deleted_folder_needs_its_path(name: str, remove: str, loc: str) -> None:
    raw = body(name)
    del raw[loc.split(".")[0]][remove]
    assert errors_of(source_of(name), raw) == [FieldError(loc, "Field required")]


@pytest.mark.parametrize(
    ("name", "file_key"),
    [("sonarr/download_episode_file.json", "episodeFile"), ("sonarr/rename.json", None)],
)
def test_a_sonarr_file_event_can_do_without_the_series_path(
    name: str, file_key: str | None
) -> None:
    raw = body(name)
    del raw["series"]["path"]
    event = parse_webhook(Source.SONARR, raw)
    assert event.paths().folders == ()
    assert event.paths().files


def test_sonarr_download_shape_is_picked_by_episode_files() -> None:
    batch = body("sonarr/download_import_complete.json")
    assert type(parse_webhook(Source.SONARR, batch).payload) is SonarrImportComplete
    batch["episodeFiles"] = None  # null is absent: the per-file shape
    batch["episodeFile"] = batch["episodes"][0] | {"path": "/tv/S/e.mkv"}
    assert type(parse_webhook(Source.SONARR, batch).payload) is SonarrDownload


# -- refusals name the field ----------------------------------------------------------------


@pytest.mark.parametrize("payload", [None, [], [{"eventType": "Test"}], "Test", 3, 2.5, True])
def test_a_body_that_is_not_an_object_is_refused(payload: object) -> None:
    assert errors_of(Source.RADARR, payload) == [
        FieldError("body", "Input should be a JSON object")
    ]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({}, FieldError("eventType", "Field required")),
        ({"eventType": None}, FieldError("eventType", "Field required")),
        ({"eventType": 3}, FieldError("eventType", "Input should be a valid string")),
        ({"eventType": ["Test"]}, FieldError("eventType", "Input should be a valid string")),
    ],
)
def test_event_type_must_be_a_string(payload: object, error: FieldError) -> None:
    assert errors_of(Source.SONARR, payload) == [error]


@pytest.mark.parametrize(
    ("name", "path", "value", "loc", "msg"),
    [
        ("radarr/download.json", ("movie", "folderPath"), 7, "movie.folderPath", "valid string"),
        ("radarr/download.json", ("movie",), "Arrival", "movie", "valid dictionary"),
        ("radarr/download.json", ("isUpgrade",), "perhaps", "isUpgrade", "valid boolean"),
        ("radarr/download.json", ("deletedFiles", 0, "size"), "big", "deletedFiles.0.size", ""),
        ("radarr/grab.json", ("release", "customFormats"), "HDR", "release.customFormats", ""),
        ("sonarr/download_import_complete.json", ("episodeFiles", 1, "path"), [], "", ""),
        ("sonarr/grab.json", ("episodes", 0, "seasonNumber"), 1.5, "episodes.0.seasonNumber", ""),
        ("sonarr/health.json", ("level",), {"x": 1}, "level", "valid string"),
        ("sonarr/test.json", ("instanceName",), 12, "instanceName", "valid string"),
    ],
)
def test_a_wrong_type_is_refused_naming_the_dotted_field(
    name: str, path: tuple[str | int, ...], value: object, loc: str, msg: str
) -> None:
    raw = body(name)
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = errors_of(source_of(name), raw)
    expected_loc = loc or ".".join(str(part) for part in path)
    assert [error.loc for error in errors] == [expected_loc]
    assert msg in errors[0].msg


def test_every_bad_field_is_named() -> None:
    raw = body("sonarr/download_import_complete.json")
    raw["series"]["tvdbId"] = "many"
    raw["episodeFiles"][0]["size"] = "large"
    with pytest.raises(PayloadInvalid) as caught:
        parse_webhook(Source.SONARR, raw)
    assert [e.loc for e in caught.value.errors] == ["series.tvdbId", "episodeFiles.0.size"]
    assert str(caught.value).startswith("series.tvdbId: Input should be a valid integer")
    assert str(caught.value).endswith("(and 1 more)")


# -- the normalised view --------------------------------------------------------------------


def test_radarr_download_summary() -> None:
    movies = "/data/media/movies/Arrival (2016)"
    assert parse_webhook(Source.RADARR, body("radarr/download.json")).summary() == {
        "source": "radarr",
        "event": "Download",
        "instance": "Radarr",
        "known": True,
        "title": "Arrival",
        "year": 2016,
        "paths": [
            movies,
            f"{movies}/Arrival (2016) {{imdb-tt2543164}} [Bluray-2160p].mkv",
            f"{movies}/Arrival (2016) {{imdb-tt2543164}} [Bluray-1080p].mkv",
        ],
        "ids": {"tmdb": 329865, "imdb": "tt2543164"},
        "upgrade": True,
        "download_id": "4F9A2C7E1B3D5F6A8C0E2B4D6F8A1C3E5B7D9F0A",
    }


def test_sonarr_import_complete_summary() -> None:
    season = "/data/media/tv/Severance/Season 02"
    summary = parse_webhook(Source.SONARR, body("sonarr/download_import_complete.json")).summary()
    assert summary == {
        "source": "sonarr",
        "event": "Download",
        "instance": "Sonarr",
        "known": True,
        "title": "Severance",
        "year": 2022,
        "paths": [
            "/data/media/tv/Severance",
            season,
            f"{season}/Severance - S02E03 - Who Is Alive [WEBDL-2160p].mkv",
            f"{season}/Severance - S02E04 - Woe's Hollow [WEBDL-2160p].mkv",
        ],
        "ids": {"tmdb": 95396, "imdb": "tt11280740", "tvdb": 371980, "tvmaze": 44933},
        "episodes": ["S02E03", "S02E04"],
        "import_complete": True,
        "files": 2,
        "download_id": "SABnzbd_nzo_ef56gh78",
    }


@pytest.mark.parametrize("name", ["radarr/rename.json", "sonarr/rename.json"])
def test_a_rename_lists_new_files_and_previous_paths(name: str) -> None:
    raw = body(name)
    renamed = raw.get("renamedMovieFiles") or raw["renamedEpisodeFiles"]
    paths = parse_webhook(source_of(name), raw).paths()
    assert paths.files == (renamed[0]["path"],)
    assert paths.removed == (renamed[0]["previousPath"],)


@pytest.mark.parametrize(
    ("name", "removed_key"),
    [("radarr/movie_file_delete.json", "movieFile"), ("sonarr/episode_file_delete.json", None)],
)
def test_a_file_delete_lists_the_file_as_removed(name: str, removed_key: str | None) -> None:
    raw = body(name)
    gone = raw.get("movieFile") or raw["episodeFile"]
    summary = parse_webhook(source_of(name), raw).summary()
    paths = parse_webhook(source_of(name), raw).paths()
    assert (paths.files, paths.removed) == ((), (gone["path"],))
    assert summary["reason"] == raw["deleteReason"]


def test_health_summary_carries_level_and_message() -> None:
    summary = parse_webhook(Source.RADARR, body("radarr/health_restored.json")).summary()
    assert (summary["level"], summary["check"]) == ("warning", "IndexerLongTermStatusCheck")
    assert "applicationUrl" not in body("radarr/health_restored.json")


def test_media_paths_drop_blanks_and_repeats_in_order() -> None:
    paths = MediaPaths.of(folders=["/a", None, " ", "/a"], files=["/a/f", "/a"], removed=["/a/f"])
    assert (paths.folders, paths.files, paths.removed) == (("/a",), ("/a/f", "/a"), ("/a/f",))
    assert paths.all() == ["/a", "/a/f"]


# -- never anything but PayloadInvalid ------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
EVENT_TYPES = st.sampled_from(sorted({*RADARR_EVENTS, *SONARR_EVENTS, "Unknown"}))


def check_parse(source: Source, payload: object) -> None:
    """Parses to a JSON summary, or refuses naming each bad field; nothing else escapes."""
    try:
        summary = parse_webhook(source, payload).summary()
    except PayloadInvalid as exc:
        refusal = exc.errors
    else:
        json.dumps(summary, allow_nan=True)
        return
    assert refusal
    assert all(error.loc and error.msg for error in refusal)


@settings(max_examples=300)
@given(source=st.sampled_from(Source), payload=JSON_VALUES)
def test_arbitrary_json_never_raises_anything_but_payload_invalid(
    source: Source, payload: object
) -> None:
    check_parse(source, payload)


@settings(max_examples=150)
@given(
    source=st.sampled_from(Source),
    event_type=EVENT_TYPES,
    fields=st.dictionaries(
        st.sampled_from(
            [
                "movie",
                "series",
                "episodes",
                "episodeFile",
                "episodeFiles",
                "movieFile",
                "renamedMovieFiles",
                "deletedFiles",
                "isUpgrade",
                "release",
                "level",
            ]
        ),
        JSON_VALUES,
    ),
)
def test_known_event_types_with_arbitrary_fields(
    source: Source, event_type: str, fields: dict[str, object]
) -> None:
    check_parse(source, {"eventType": event_type, **fields})


@settings(max_examples=300)
@given(name=st.sampled_from(FIXTURE_NAMES), data=st.data())
def test_fixtures_with_one_value_replaced(name: str, data: st.DataObject) -> None:
    raw: Any = body(name)
    target = raw
    while True:  # walk down to a random container, then replace one of its values
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = target[key]
        if isinstance(child, dict | list) and child and data.draw(st.booleans()):
            target = child
            continue
        target[key] = data.draw(JSON_VALUES)
        break
    check_parse(source_of(name), raw)
