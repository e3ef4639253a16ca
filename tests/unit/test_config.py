"""Settings: defaults, the TOML file, RELAYARR_* variables and overrides, and bad config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from relayarr.config import Settings, load_settings, sqlite_url
from relayarr.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RELAYARR_* variable of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.upper().startswith("RELAYARR_"):
            monkeypatch.delenv(name)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write(
        tmp_path / "relayarr.toml",
        """
data_dir = "/srv/relayarr"

[queue]
concurrency = 6
lease_seconds = 12.5

[log]
level = "debug"
json = true
""",
    )


def test_defaults_put_a_sqlite_queue_under_data() -> None:
    settings = load_settings()
    assert settings.data_dir == Path("data")
    assert settings.queue.url is None
    assert settings.queue_url == "sqlite:///data/queue.db"
    assert settings.queue.concurrency == 4
    assert settings.log.level == "INFO"
    assert settings.log.json_lines is False


def test_file_values_are_read(config_file: Path) -> None:
    settings = load_settings(config_file)
    assert settings.data_dir == Path("/srv/relayarr")
    assert settings.queue_url == "sqlite:////srv/relayarr/queue.db"
    assert settings.queue.concurrency == 6
    assert settings.queue.lease_seconds == 12.5
    assert settings.queue.poll_interval == 1.0  # untouched keys keep their defaults
    assert settings.log.level == "DEBUG"
    assert settings.log.json_lines is True


def test_environment_beats_the_file_key_by_key(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAYARR_QUEUE__CONCURRENCY", "9")
    monkeypatch.setenv("RELAYARR_LOG__JSON", "false")
    settings = load_settings(config_file)
    assert settings.queue.concurrency == 9
    assert settings.queue.lease_seconds == 12.5  # same section, still from the file
    assert settings.log.json_lines is False
    assert settings.log.level == "DEBUG"


def test_overrides_beat_the_environment(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_QUEUE__URL", "sqlite:///from-env.db")
    settings = load_settings(config_file, overrides={"queue": {"url": "sqlite:///flag.db"}})
    assert settings.queue_url == "sqlite:///flag.db"
    assert settings.queue.concurrency == 6


def test_data_dir_from_the_environment_moves_the_default_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELAYARR_DATA_DIR", "/var/lib/relayarr")
    assert load_settings().queue_url == "sqlite:////var/lib/relayarr/queue.db"


def test_queue_url_shortcut(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_QUEUE_URL", "sqlite:///short.db")
    assert load_settings(config_file).queue_url == "sqlite:///short.db"


def test_queue_url_shortcut_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "c.toml", '[queue]\nurl = "sqlite:///file.db"\n')
    monkeypatch.setenv("RELAYARR_QUEUE_URL", "sqlite:///short.db")
    assert load_settings(path).queue_url == "sqlite:///short.db"


def test_nested_queue_url_variable_beats_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_QUEUE_URL", "sqlite:///short.db")
    monkeypatch.setenv("RELAYARR_QUEUE__URL", "sqlite:///nested.db")
    assert load_settings().queue_url == "sqlite:///nested.db"


def test_empty_variables_count_as_unset(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_QUEUE__CONCURRENCY", "")
    monkeypatch.setenv("RELAYARR_QUEUE_URL", "")
    settings = load_settings(config_file)
    assert settings.queue.concurrency == 6
    assert settings.queue_url == "sqlite:////srv/relayarr/queue.db"


def test_config_file_from_the_environment(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAYARR_CONFIG", str(config_file))
    assert load_settings().queue.concurrency == 6


def test_explicit_file_beats_relayarr_config(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAYARR_CONFIG", str(config_file))
    other = write(tmp_path / "other.toml", "[queue]\nconcurrency = 2\n")
    assert load_settings(other).queue.concurrency == 2


def test_environment_is_read_when_loading_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_QUEUE__CONCURRENCY", "7")
    assert load_settings().queue.concurrency == 7
    monkeypatch.setenv("RELAYARR_QUEUE__CONCURRENCY", "8")
    assert load_settings().queue.concurrency == 8


def test_a_loaded_file_does_not_leak_into_later_settings(config_file: Path) -> None:
    assert load_settings(config_file).queue.concurrency == 6
    assert Settings().queue.concurrency == 4
    assert load_settings().queue.concurrency == 4


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_LOG__LEVEL", "warning")
    assert load_settings().log.level == "WARNING"


def test_sqlite_url_of_relative_and_absolute_paths() -> None:
    assert sqlite_url(Path("data/q.db")) == "sqlite:///data/q.db"
    assert sqlite_url(Path("/abs/q.db")) == "sqlite:////abs/q.db"


# -- bad config: one message naming where the value came from and the dotted key -----------


def error_of(config_file: Path | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_bad_value_in_the_file_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", '[queue]\nconcurrency = "many"\n')
    message = error_of(path)
    assert f"{path}: queue.concurrency: Input should be a valid integer" in message


def test_unknown_key_in_the_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "typo.toml", "[queue]\nconcurency = 3\n")
    message = error_of(path)
    assert f"{path}: queue.concurency: Extra inputs are not permitted" in message


def test_every_bad_key_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.toml", '[queue]\nconcurrency = 0\nlease_seconds = -1\n[log]\nlevel = "x"\n'
    )
    message = error_of(path)
    for key in ("queue.concurrency", "queue.lease_seconds", "log.level"):
        assert f"{path}: {key}: " in message


def test_bad_value_in_the_environment_names_the_variable(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAYARR_QUEUE__CONCURRENCY", "lots")
    message = error_of(config_file)
    assert "RELAYARR_QUEUE__CONCURRENCY: queue.concurrency: Input should be a valid integer" in (
        message
    )
    assert str(config_file) not in message


def test_bad_log_flag_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYARR_LOG__JSON", "maybe")
    assert "RELAYARR_LOG__JSON: log.json: Input should be a valid boolean" in error_of()


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert error_of(path) == f"config file not found ({path})"


def test_missing_file_from_relayarr_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "absent.toml"
    monkeypatch.setenv("RELAYARR_CONFIG", str(path))
    assert str(path) in error_of()


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.toml", "[queue]\nconcurrency = = 3\n")
    message = error_of(path)
    assert "not valid TOML" in message
    assert "line 2" in message
    assert str(path) in message
