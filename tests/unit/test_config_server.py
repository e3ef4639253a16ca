"""The [server] section, RELAYARR_API_KEY, and the file `relayarr config init` writes."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from relayarr.config import Settings, default_config_toml, load_settings
from relayarr.errors import ConfigError

KEY = "k" * 24


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("RELAYARR_"):
            monkeypatch.delenv(name)


def test_server_defaults() -> None:
    server = load_settings().server
    assert (server.host, server.port, server.api_key) == ("127.0.0.1", 7878, None)
    assert server.max_body_bytes == 1024 * 1024
    assert server.metrics_public is False


def test_api_key_shortcut_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_API_KEY", KEY)
    monkeypatch.setenv("RELAYARR_SERVER__PORT", "9000")
    settings = load_settings()
    assert settings.server.api_key is not None
    assert settings.server.api_key.get_secret_value() == KEY
    assert settings.server.port == 9000


def test_nested_variable_beats_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_API_KEY", KEY)
    monkeypatch.setenv("RELAYARR_SERVER__API_KEY", "n" * 24)
    key = load_settings().server.api_key
    assert key is not None
    assert key.get_secret_value() == "n" * 24


def test_shortcut_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "relayarr.toml"
    config.write_text(f'[server]\napi_key = "{"f" * 24}"\n')
    assert load_settings(config).server.api_key.get_secret_value() == "f" * 24  # type: ignore[union-attr]
    monkeypatch.setenv("RELAYARR_API_KEY", KEY)
    assert load_settings(config).server.api_key.get_secret_value() == KEY  # type: ignore[union-attr]


def test_a_weak_key_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_API_KEY", "short")
    with pytest.raises(ConfigError, match=r"RELAYARR_API_KEY: server\.api_key: .*16") as caught:
        load_settings()
    assert "short" not in str(caught.value)


def test_a_key_with_spaces_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "relayarr.toml"
    config.write_text('[server]\napi_key = "a key with spaces in it"\n')
    with pytest.raises(ConfigError, match=r"relayarr.toml: server\.api_key: .*ASCII"):
        load_settings(config)


def test_the_key_never_shows_in_a_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_API_KEY", KEY)
    settings = load_settings()
    assert KEY not in repr(settings)
    assert KEY not in str(settings)


def test_port_out_of_range_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "relayarr.toml"
    config.write_text("[server]\nport = 70000\n")
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(config)


def test_the_default_file_loads_as_the_defaults(tmp_path: Path) -> None:
    config = tmp_path / "relayarr.toml"
    config.write_text(default_config_toml())
    assert load_settings(config) == Settings()


def _section(annotation: object) -> type[BaseModel] | None:
    """The model of a section: ``QueueSettings``, or an optional ``MetadataSettings | None``."""
    args = get_args(annotation)
    candidates = [a for a in args if a is not type(None)] if type(None) in args else [annotation]
    found = candidates[0] if len(candidates) == 1 else None
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def test_the_default_file_lists_every_setting_with_a_working_value(tmp_path: Path) -> None:
    text = default_config_toml()
    uncommented = "\n".join(
        line.removeprefix("# ")
        if line.startswith("# ") and (" = " in line or line.startswith("# ["))
        else line
        for line in text.splitlines()
    )
    data = tomllib.loads(uncommented)
    expected = {
        name: set(model.model_fields)
        for name, info in Settings.model_fields.items()
        if (model := _section(info.annotation)) is not None
    }
    assert "metadata" in expected
    for section, keys in expected.items():
        written = {"json_lines" if key == "json" else key for key in data[section]}
        assert keys <= written, f"[{section}] misses {keys - written}"
    config = tmp_path / "relayarr.toml"
    config.write_text(uncommented)
    load_settings(config)  # every example value is valid


def test_the_players_example_enables_by_removing_one_comment_marker(tmp_path: Path) -> None:
    text = default_config_toml()
    example = text[text.index("# [[players]]") :]
    config = tmp_path / "relayarr.toml"
    config.write_text("\n".join(line.removeprefix("# ") for line in example.splitlines()))
    settings = load_settings(config)
    assert [player.name for player in settings.players] == ["living-room"]
    assert settings.players[0].token is None  # optional keys stay commented out
