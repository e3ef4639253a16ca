"""The metadata wiring's pure parts: ``[metadata]`` in the settings and the template, the
enrich/publish payload, and edits of fields and locks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from relayarr.arr.common import MediaIds
from relayarr.arr.events import Source
from relayarr.arr.media import Action, EpisodeRef, MediaEvent, MediaKind
from relayarr.config import Settings, default_config_toml, load_settings
from relayarr.errors import ConfigError, EditInvalid
from relayarr.jobqueue import PermanentFailure
from relayarr.library.db.records import ItemKind
from relayarr.metadata import FieldLocks, MetadataSettings, UniqueIds
from relayarr.metadata.codec import metadata_from_json, metadata_to_json
from relayarr.metadata.models import Actor, Artwork, Collection, MovieMetadata, Rating
from relayarr.pipeline.edits import ItemEdit, apply_edit, lockable
from relayarr.pipeline.metajob import EpisodeTarget, MetadataJob, MetadataReason
from relayarr.pipeline.offline import episode_metadata, movie_metadata, provider_ids


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relayarr.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- settings ------------------------------------------------------------------------------


def test_no_metadata_section_means_nothing_is_published() -> None:
    assert Settings().metadata is None


def test_an_empty_section_publishes_with_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[metadata]\n"))
    assert settings.metadata == MetadataSettings()
    assert settings.metadata.publishes
    assert settings.assets_dir == Path("data") / "assets"


def test_nfo_off_and_no_artwork_publish_nothing(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[metadata]\nnfo = "off"\nartwork = []\n'))
    assert settings.metadata is not None
    assert not settings.metadata.publishes


def test_the_environment_configures_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_METADATA__TMDB_API_KEY", "k" * 32)
    monkeypatch.setenv("RELAYARR_METADATA__LANGUAGE", "de-DE")
    settings = load_settings()
    assert settings.metadata is not None
    assert settings.metadata.tmdb_enabled
    assert settings.metadata.language == "de-DE"
    assert "k" * 32 not in repr(settings)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[metadata]\nartwrok = []\n", "metadata.artwrok: Extra inputs are not permitted"),
        ('[metadata]\nnfo = "always"\n', "metadata.nfo:"),
        ('[metadata]\nartwork = ["poster", "thumbnail"]\n', "metadata.artwork.1:"),
        ('[metadata]\nlanguage = "english"\n', "metadata.language:"),
        ("[metadata]\nenrich_retry_seconds = 0\n", "metadata.enrich_retry_seconds:"),
    ],
)
def test_a_bad_metadata_key_is_named(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"relayarr.toml: {named}")):
        load_settings(write(tmp_path, text))


def test_the_template_keeps_metadata_off_and_switches_on_as_valid_toml(tmp_path: Path) -> None:
    template = default_config_toml()
    lines = template.splitlines()
    assert "# [metadata]" in lines
    assert '# artwork = ["poster", "fanart", "clearlogo"]' in lines
    assert "metadata" not in tomllib.loads(template)
    switched = "\n".join(
        line[2:] if re.match(r"^# ([a-z_]+ = |\[)", line) else line for line in lines
    )
    data = tomllib.loads(switched)
    assert data["metadata"]["artwork"] == ["poster", "fanart", "clearlogo"]
    assert load_settings(write(tmp_path, switched)).metadata == MetadataSettings()


# -- the payload -------------------------------------------------------------------------------


def an_event() -> MediaEvent:
    return MediaEvent(
        source=Source.SONARR,
        instance=None,
        event="Download",
        action=Action.SCAN,
        kind=MediaKind.SERIES,
        title="Severance",
        year=2022,
        ids=MediaIds(tmdb=95396, tvdb=371980),
        folder="/data/media/tv/Severance",
        episodes=(EpisodeRef(2, 3, "Who Is Alive?", "2025-01-31", 10456789),),
    )


def test_the_payload_travels_as_json() -> None:
    job = MetadataJob(
        kind=ItemKind.SERIES,
        item_id=87,
        folder="/srv/tv/Severance",
        video=None,
        episodes=(EpisodeTarget(2, (3, 4), "Season 02/S02E03E04.mkv"),),
        replaced=("/srv/tv/Severance/Season 02/old.mkv",),
        event=an_event(),
        notify=({"change": {"action": "added"}, "done": []},),
    )
    assert MetadataJob.from_payload(job.to_json()) == job
    retry = job.retry()
    assert (retry.reason, retry.notify, retry.refresh, retry.replaced) == (
        MetadataReason.RETRY,
        (),
        True,
        (),
    )


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"kind": "movie", "item_id": "412", "folder": "/m"},
        {"kind": "film", "item_id": 412, "folder": "/m"},
        {"kind": "movie", "item_id": 412, "folder": ""},
        {"kind": "movie", "item_id": 412, "folder": "/m", "episodes": [{"season": 1}]},
        {"kind": "movie", "item_id": 412, "folder": "/m", "notify": ["x"]},
        {"kind": "movie", "item_id": 412, "folder": "/m", "reason": "whim"},
    ],
)
def test_a_malformed_payload_fails_for_good(payload: dict[str, object]) -> None:
    with pytest.raises(PermanentFailure, match="malformed metadata job payload"):
        MetadataJob.from_payload(payload)


def test_offline_values_come_from_the_webhook_or_the_library() -> None:
    event = an_event()
    episode = episode_metadata(event, "Severance", 2, 3)
    assert (episode.title, episode.premiered, episode.year, episode.ids.tvdb) == (
        "Who Is Alive?",
        "2025-01-31",
        2025,
        10456789,
    )
    assert episode_metadata(event, "Severance", 2, 9).title == ""
    assert movie_metadata(None, None) is None
    ids = provider_ids(event, None, series=True)
    assert ids == UniqueIds(tmdb=95396, tvdb=371980, default="tvdb")


def test_metadata_round_trips_through_json() -> None:
    meta = MovieMetadata(
        title="Arrival",
        year=2016,
        ratings=(Rating("imdb", 7.9, 800000, default=True),),
        actors=(Actor("Amy Adams", "Louise Banks", 0, "https://img/a.jpg"),),
        collection=Collection("Set", "", 12),
        ids=UniqueIds(tmdb=329865, imdb="tt2543164"),
        artwork=(Artwork("poster", "https://img/p.jpg", None, 1000, 1500, 5.5, "tmdb"),),
    )
    assert metadata_from_json(MovieMetadata, metadata_to_json(meta)) == meta
    with pytest.raises(ValueError, match="wrong shape"):
        metadata_from_json(MovieMetadata, {"ratings": [{"stars": 5}]})


# -- edits -------------------------------------------------------------------------------------


def test_a_field_given_a_value_is_locked_with_it() -> None:
    locks = apply_edit(
        ItemKind.MOVIE,
        FieldLocks(frozenset({"plot"})),
        ItemEdit(
            {"title": "Mine", "year": 2017, "genres": ["Drama"], "ids": {"tmdb": 1}},
            {"poster": True, "plot": False},
        ),
    )
    assert locks.fields == frozenset({"title", "year", "genres", "ids", "poster"})
    assert locks.values == {
        "title": "Mine",
        "year": 2017,
        "genres": ("Drama",),
        "ids": UniqueIds(tmdb=1),
    }


def test_unlocking_drops_the_kept_value() -> None:
    current = FieldLocks(frozenset({"title"}), {"title": "Mine"})
    assert apply_edit(ItemKind.MOVIE, current, ItemEdit(locks={"title": False})) == FieldLocks()


def test_every_bad_name_and_value_is_named() -> None:
    with pytest.raises(EditInvalid) as caught:
        apply_edit(
            ItemKind.MOVIE,
            FieldLocks(),
            ItemEdit(
                {"titel": "x", "year": "2016", "genres": "Drama", "poster": "p", "show_title": "x"},
                {"colour": True, "title": False, "plot": True},
            ),
        )
    assert [(e.loc, e.msg) for e in caught.value.errors] == [
        ("fields.titel", "unknown field"),
        ("fields.year", "not a valid year value"),
        ("fields.genres", "not a valid genres value"),
        ("fields.poster", "an artwork type: lock it instead"),
        ("fields.show_title", "unknown field"),
        ("locks.colour", "unknown field"),
    ]
    assert str(caught.value).startswith("fields.titel: unknown field; fields.year:")


def test_a_value_given_and_unlocked_at_once_is_refused() -> None:
    with pytest.raises(EditInvalid, match=r"locks\.title: given a value in fields and unlocked"):
        apply_edit(ItemKind.MOVIE, FieldLocks(), ItemEdit({"title": "x"}, {"title": False}))


def test_series_lock_their_own_fields() -> None:
    assert "status" in lockable(ItemKind.SERIES)
    assert "status" not in lockable(ItemKind.MOVIE)
    assert "collection" in lockable(ItemKind.MOVIE)
    assert "poster" in lockable(ItemKind.SERIES)
