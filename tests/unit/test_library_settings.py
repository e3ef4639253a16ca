"""The [library] and [[mappings]] settings: the TOML contract, bad keys named, and the
commented template that `relayarr config init` writes."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from relayarr.config import Settings, default_config_toml, load_settings
from relayarr.errors import ConfigError
from relayarr.library.paths import PathRule
from relayarr.library.roots import LibraryRoot, RootKind

CONTRACT = """
[library]
# database_url = "sqlite:///data/library.db"
settle_seconds = 10
reconcile_every = "6h"

[[library.roots]]
path = "/srv/media/movies"
kind = "movies"
anchors = [".relayarr-anchor"]

[[library.roots]]
path = "/srv/media/tv"
kind = "series"

[[mappings]]
source = "radarr"
from = "/movies"
to = "/srv/media/movies"
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("RELAYARR_"):
            monkeypatch.delenv(name)


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "relayarr.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return str(caught.value)


def test_the_contract_loads_into_the_services_values(tmp_path: Path) -> None:
    settings = load(tmp_path, CONTRACT)
    assert settings.library.settle_seconds == 10
    assert settings.library.reconcile_every == 6 * 3600
    assert settings.library_database_url == "sqlite:///data/library.db"
    assert settings.library.library_roots() == (
        LibraryRoot(Path("/srv/media/movies"), RootKind.MOVIES, (".relayarr-anchor",)),
        LibraryRoot(Path("/srv/media/tv"), RootKind.SERIES, ()),
    )
    assert [mapping.rule() for mapping in settings.mappings] == [
        PathRule("/movies", "/srv/media/movies", source="radarr", case_insensitive=False)
    ]


def test_defaults_have_no_roots_and_a_library_file_in_data_dir(tmp_path: Path) -> None:
    settings = load(tmp_path, 'data_dir = "/var/lib/relayarr"\n')
    assert settings.library.roots == ()
    assert settings.mappings == ()
    assert settings.library.settle_seconds == 10
    assert settings.library_database_url == "sqlite:////var/lib/relayarr/library.db"


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("6h", 21600), ("90m", 5400), ("1h30m", 5400), ("0", 0), ("45", 45), (120, 120)],
)
def test_reconcile_every_takes_durations(tmp_path: Path, written: object, seconds: float) -> None:
    value = f'"{written}"' if isinstance(written, str) else str(written)
    settings = load(tmp_path, f"[library]\nreconcile_every = {value}\n")
    assert settings.library.reconcile_every == seconds


def test_environment_overrides_library_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAYARR_LIBRARY__RECONCILE_EVERY", "90m")
    monkeypatch.setenv("RELAYARR_LIBRARY__DATABASE_URL", "postgresql://db/library")
    settings = load(tmp_path, CONTRACT)
    assert settings.library.reconcile_every == 5400
    assert settings.library_database_url == "postgresql://db/library"
    assert len(settings.library.roots) == 2  # the rest still from the file


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        (
            '[[library.roots]]\npath = "/m"\nkind = "films"\n',
            "library.roots.0.kind",
            "'movies' or 'series'",
        ),
        (
            '[[library.roots]]\npath = "media"\nkind = "movies"\n',
            "library.roots.0.path",
            "absolute",
        ),
        (
            '[[library.roots]]\npath = "/m"\nkind = "movies"\nanchors = ["../up"]\n',
            "library.roots.0.anchors",
            "relative to the root",
        ),
        (
            '[[library.roots]]\npath = "/m"\nkind = "movies"\ncolour = 1\n',
            "library.roots.0.colour",
            "Extra inputs",
        ),
        ('[library]\nreconcile_every = "soon"\n', "library.reconcile_every", "not a duration"),
        ("[library]\nsettle_seconds = -1\n", "library.settle_seconds", "greater than or equal"),
        (
            '[[mappings]]\nfrom = "/a"\nto = "/b"\n[[mappings]]\nto = "/b"\n',
            "mappings.1.from",
            "Field required",
        ),
        ('[[mappings]]\nfrom = ""\nto = "/b"\n', "mappings.0.from", "at least 1 character"),
        ('[[mappings]]\nfrom = "/a"\nto = "   "\n', "mappings.0.to", "blank"),
        (
            '[[mappings]]\nsource = "lidarr"\nfrom = "/a"\nto = "/b"\n',
            "mappings.0.source",
            "not a source",
        ),
        (
            '[[mappings]]\nsource = "radarr/4K!"\nfrom = "/a"\nto = "/b"\n',
            "mappings.0.source",
            "not a source",
        ),
        (
            '[[mappings]]\nfrom = "/a"\nto = "/b"\ncase_insensitiv = true\n',
            "mappings.0.case_insensitiv",
            "Extra inputs",
        ),
    ],
)
def test_bad_entries_name_their_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    message = error_of(tmp_path, text)
    assert f"relayarr.toml: {key}: " in message
    assert reason in message


@pytest.mark.parametrize(
    ("first", "second"),
    [("/srv/media", "/srv/media/movies"), ("/srv/media/tv", "/srv/media"), ("/a/b", "/a/b/")],
)
def test_roots_must_not_overlap(tmp_path: Path, first: str, second: str) -> None:
    text = (
        f'[[library.roots]]\npath = "{first}"\nkind = "movies"\n'
        f'[[library.roots]]\npath = "{second}"\nkind = "series"\n'
    )
    message = error_of(tmp_path, text)
    assert "library.roots: " in message
    assert "roots.0.path" in message
    assert "roots.1.path" in message
    assert "overlap" in message


def test_siblings_with_a_common_prefix_are_not_nested(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[[library.roots]]\npath = "/srv/movies"\nkind = "movies"\n'
        '[[library.roots]]\npath = "/srv/movies-4k"\nkind = "movies"\n',
    )
    assert len(settings.library.roots) == 2


def test_sources_are_case_folded_and_may_name_an_instance(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[[mappings]]\nsource = "Radarr/4k"\nfrom = "D:\\\\Movies"\nto = "/srv/4k"\n'
        "case_insensitive = true\n"
        '[[mappings]]\nfrom = "/srv"\nto = "smb://nas/srv"\n',
    )
    first, second = (mapping.rule() for mapping in settings.mappings)
    assert first == PathRule("D:\\Movies", "/srv/4k", source="radarr/4k", case_insensitive=True)
    assert second.source is None


def uncommented(template: str) -> str:
    """The template with its example keys and tables switched on."""
    return "\n".join(
        line[2:] if re.match(r"^# ([a-z_]+ = |\[)", line) else line
        for line in template.splitlines()
    )


def test_template_shows_library_and_mappings_commented() -> None:
    template = default_config_toml()
    assert tomllib.loads(template) == {"queue": {}, "server": {}, "log": {}, "library": {}}
    for line in (
        '# database_url = "sqlite:///data/library.db"',
        "# settle_seconds = 10.0",
        '# reconcile_every = "6h"',
        "# [[library.roots]]",
        '# kind = "movies"',
        '# anchors = [".relayarr-anchor"]',
        "# [[mappings]]",
        '# source = "radarr"',
        '# from = "/movies"',
        '# to = "/srv/media/movies"',
        "# case_insensitive = false",
    ):
        assert line in template.splitlines()
    # [[mappings]] must come after every section, or TOML would file it under [library].
    assert template.index("[[mappings]]") > template.index("[[library.roots]]")


def test_template_switched_on_is_the_contract(tmp_path: Path) -> None:
    settings = load(tmp_path, uncommented(default_config_toml()))
    assert [str(root.path) for root in settings.library.roots] == ["/srv/media/movies"]
    assert settings.library.reconcile_every == 21600
    assert settings.mappings[0].rule() == PathRule("/movies", "/srv/media/movies", "radarr")
