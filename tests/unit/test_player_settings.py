"""The ``[[players]]`` / ``[groups.NAME]`` contract, loaded the way relayarr loads its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from relayarr.config import Settings, load_settings
from relayarr.errors import ConfigError
from relayarr.players.settings import (
    EXAMPLE_TOML,
    DuringPlayback,
    GroupMode,
    PlayersSection,
    PlayerType,
)

CONTRACT = """
[[players]]
name = "living-room"
type = "kodi"
url = "http://192.168.1.20:8080"
username = "kodi"
password = "kodi-secret-password"
group = "kodi"

[[players.mappings]]
from = "/srv/media/movies"
to = "nfs://nas/movies"

[[players]]
name = "bedroom"
type = "kodi"
url = "http://192.168.1.21:8080/"
username = "kodi"
password = "kodi-secret-password"
group = "kodi"

[[players]]
name = "plex"
type = "plex"
url = "http://192.168.1.30:32400"
token = "plex-secret-token"

[groups.kodi]
mode = "one"
during_playback = "defer"
"""


def load(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "relayarr.toml"
    config.write_text(text)
    return load_settings(config)


def test_the_documented_contract_loads(tmp_path: Path) -> None:
    settings = load(tmp_path, CONTRACT)

    living, bedroom, plex = settings.players
    assert (living.name, living.type, living.group_name) == ("living-room", PlayerType.KODI, "kodi")
    assert living.mappings[0].local == "/srv/media/movies"
    assert living.mappings[0].player == "nfs://nas/movies"
    assert bedroom.url == "http://192.168.1.21:8080"  # the trailing slash is dropped
    assert plex.group_name == "plex"  # a player without a group is a group of its own
    assert plex.token is not None
    assert plex.token.get_secret_value() == "plex-secret-token"
    group = settings.groups["kodi"]
    assert (group.mode, group.during_playback) == (GroupMode.ONE, DuringPlayback.DEFER)


def test_the_example_in_the_docs_and_the_template_is_valid(tmp_path: Path) -> None:
    settings = load(tmp_path, EXAMPLE_TOML.replace('password = "..."', 'password = "x"'))
    assert [p.name for p in settings.players] == ["living-room"]


def test_credentials_never_show_in_a_repr(tmp_path: Path) -> None:
    settings = load(tmp_path, CONTRACT)
    text = repr(settings) + str(settings.model_dump())
    assert "kodi-secret-password" not in text
    assert "plex-secret-token" not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('name = "bedroom"', 'name = "Living-Room"'),
            r"players: Value error, players\[0\] and players\[1\] are both named 'Living-Room'",
        ),
        (
            ("[groups.kodi]", "[groups.kodj]"),
            r"groups: Value error, groups\.kodj: no player has group = 'kodj'",
        ),
        (
            ('token = "plex-secret-token"', 'username = "me"'),
            r"players\.2: Value error, a plex player needs token",
        ),
        (
            ('token = "plex-secret-token"', 'token = "t"\npassword = "p"'),
            r"players\.2: Value error, a plex player takes token, not username/password",
        ),
        (
            ('password = "kodi-secret-password"\ngroup', 'token = "x"\ngroup'),
            r"players\.0: Value error, a kodi player needs username and password",
        ),
        (('type = "plex"', 'type = "vlc"'), r"players\.2\.type: Input should be 'kodi'"),
        (
            ('url = "http://192.168.1.30:32400"', 'url = "http://me:pw@nas:32400"'),
            r"players\.2\.url: Value error, must not hold credentials",
        ),
        (('url = "http://192.168.1.30:32400"', 'url = "nas:32400"'), r"players\.2\.url"),
        (('to = "nfs://nas/movies"', 'to = "  "'), r"players\.0\.mappings\.0\.to: Value error"),
        (('from = "/srv/media/movies"', 'from = ""'), r"players\.0\.mappings\.0\.from"),
        (('mode = "one"', 'mode = "first"'), r"groups\.kodi\.mode: Input should be 'one' or 'all'"),
        (
            ('during_playback = "defer"', 'during_playback = "pause"'),
            r"groups\.kodi\.during_playback: Input should be 'defer', 'skip' or 'always'",
        ),
        (('type = "plex"', 'type = "plex"\ncolour = "red"'), r"players\.2\.colour: Extra inputs"),
    ],
)
def test_a_bad_player_config_names_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in CONTRACT
    with pytest.raises(ConfigError, match=r"relayarr\.toml: " + message):
        load(tmp_path, CONTRACT.replace(old, new, 1))


def test_a_bad_player_config_never_echoes_a_secret(tmp_path: Path) -> None:
    text = CONTRACT.replace('token = "plex-secret-token"', 'token = "plex-secret-token"\nx = 1')
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    assert "plex-secret-token" not in str(raised.value)


def test_players_come_from_the_environment_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "RELAYARR_PLAYERS",
        '[{"name": "plex", "type": "plex", "url": "http://nas:32400", "token": "t"}]',
    )
    assert [p.name for p in load_settings().players] == ["plex"]


def test_the_players_section_validates_on_its_own() -> None:
    with pytest.raises(ValueError, match=r"groups\.ghost: no player"):
        PlayersSection.model_validate(
            {
                "players": [{"name": "p", "type": "plex", "url": "http://x", "token": "t"}],
                "groups": {"ghost": {}},
            }
        )
    section = PlayersSection.model_validate(
        {"players": [{"name": "p", "type": "plex", "url": "http://x", "token": "t"}]}
    )
    assert section.group("p").mode is GroupMode.ONE  # defaults for a group without a section
