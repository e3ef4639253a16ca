"""The ``[[players]]`` and ``[groups.NAME]`` settings: which players to tell, and how.

.. code-block:: toml

    [[players]]
    name = "living-room"
    type = "kodi"                 # kodi | jellyfin | emby | plex
    url = "http://192.168.1.20:8080"
    username = "kodi"             # kodi: HTTP Basic
    password = "..."
    # token = "..."               # jellyfin / emby: API key; plex: X-Plex-Token
    group = "kodi"                # default: the player's own name

    [[players.mappings]]          # a path as relayarr sees it -> the same path for this player
    from = "/srv/media/movies"
    to = "nfs://nas/movies"

    [groups.kodi]
    mode = "one"                  # one: first healthy member | all: every member
    during_playback = "defer"     # defer | skip | always

The top-level settings hold these as two fields, ``players: list[PlayerSettings]`` and
``groups: dict[str, GroupSettings]``, checked together by :func:`check_unique_names` and
:func:`check_groups` (see :class:`PlayersSection`, which is exactly that pair).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

EXAMPLE_TOML = """\
# Media players to tell about changes (none by default). Each [[players]] entry is one
# player; players with the same group form one group. See docs/players.md.

[[players]]
name = "living-room"
type = "kodi"                 # kodi | jellyfin | emby | plex
url = "http://192.168.1.20:8080"
username = "kodi"             # kodi: the web server's login (HTTP Basic)
password = "..."
# token = "..."               # jellyfin / emby: API key; plex: X-Plex-Token
group = "kodi"                # default: the player's own name
# timeout = 10.0              # seconds per HTTP request
# max_requests = 1            # HTTP requests in flight to this player at a time
# verify_timeout = 120.0      # kodi: seconds for a scan to show the item
# breaker_threshold = 3       # consecutive failures that open its circuit breaker
# breaker_cooldown = 30.0     # seconds it then stays open (doubling, up to 10 min)

[[players.mappings]]          # a path as relayarr sees it -> the same path for this player
from = "/srv/media/movies"
to = "nfs://nas/movies"

[groups.kodi]
mode = "one"                  # one: first healthy member, then the next | all: every member
during_playback = "defer"     # defer (retry later) | skip | always
# defer_seconds = 300.0       # how long a deferred notification waits
"""


class PlayerType(StrEnum):
    """The kinds of player relayarr can tell."""

    KODI = "kodi"
    JELLYFIN = "jellyfin"
    EMBY = "emby"
    PLEX = "plex"


class GroupMode(StrEnum):
    """``one``: the first healthy member, falling back to the next (several Kodi boxes on one
    shared database); ``all``: every member."""

    ONE = "one"
    ALL = "all"


class DuringPlayback(StrEnum):
    """What to do while a video plays on a player: ``defer`` (retry later), ``skip`` (drop
    the notification for that player), ``always`` (tell it anyway; a Kodi library clean
    still waits, as it can pull the playing item from under the viewer)."""

    DEFER = "defer"
    SKIP = "skip"
    ALWAYS = "always"


class PathMapping(BaseModel):
    """One ``[[players.mappings]]`` entry: a local path prefix and the player's view of it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    local: str = Field(alias="from", min_length=1, description="the path as relayarr sees it")
    player: str = Field(alias="to", min_length=1, description="the same path as the player sees it")

    @field_validator("local", "player")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class PlayerSettings(BaseModel):
    """One ``[[players]]`` entry. Credentials are :class:`~pydantic.SecretStr`: they never
    show in a repr, a log line or an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, description="unique name of this player")
    type: PlayerType = Field(description="kodi, jellyfin, emby or plex")
    url: str = Field(description="base URL, e.g. http://192.168.1.20:8080")
    username: str | None = Field(default=None, description="kodi: web server user name")
    password: SecretStr | None = Field(default=None, description="kodi: web server password")
    token: SecretStr | None = Field(
        default=None, description="jellyfin/emby: API key; plex: X-Plex-Token"
    )
    group: str | None = Field(
        default=None, min_length=1, description="players with the same group form one group"
    )
    mappings: tuple[PathMapping, ...] = Field(default=(), description="local path -> player path")
    timeout: float = Field(default=10.0, gt=0, le=600, description="seconds per HTTP request")
    max_requests: int = Field(
        default=1, ge=1, le=64, description="HTTP requests in flight to this player at a time"
    )
    verify_timeout: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="kodi: seconds for a scan to show the item",
    )
    breaker_threshold: int = Field(
        default=3, ge=1, description="consecutive failures that open this player's breaker"
    )
    breaker_cooldown: float = Field(
        default=30.0, gt=0, description="seconds the breaker stays open (doubling, up to 10 min)"
    )

    @property
    def group_name(self) -> str:
        """The group this player belongs to: ``group``, or its own name."""
        return self.group or self.name

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if value != value.strip() or not value.isprintable():
            raise ValueError("must be printable, without leading or trailing spaces")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            # Credentials in the URL would end up in logs and error messages.
            raise ValueError("must not hold credentials; use username/password or token")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or a fragment")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            raise ValueError("has an invalid port") from None
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _credentials(self) -> PlayerSettings:
        if self.type is PlayerType.KODI:
            if not self.username or self.password is None or not self.password.get_secret_value():
                raise ValueError("a kodi player needs username and password (its web server login)")
            if self.token is not None:
                raise ValueError("a kodi player takes username and password, not token")
        else:
            if self.token is None or not self.token.get_secret_value().strip():
                raise ValueError(f"a {self.type.value} player needs token")
            if self.username is not None or self.password is not None:
                raise ValueError(f"a {self.type.value} player takes token, not username/password")
        return self


class GroupSettings(BaseModel):
    """One ``[groups.NAME]`` section; a group without one gets these defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: GroupMode = Field(default=GroupMode.ONE, description="one or all")
    during_playback: DuringPlayback = Field(
        default=DuringPlayback.DEFER, description="defer, skip or always"
    )
    defer_seconds: float = Field(
        default=300.0, gt=0, description="how long a deferred notification waits before a retry"
    )
    retry_seconds: float = Field(
        default=60.0, gt=0, description="how long a failed player waits before it is asked again"
    )


def check_unique_names(players: Sequence[PlayerSettings]) -> Sequence[PlayerSettings]:
    """Refuse two players with the same name (compared without case)."""
    seen: dict[str, int] = {}
    for index, player in enumerate(players):
        key = player.name.casefold()
        if key in seen:
            raise ValueError(
                f"players[{seen[key]}] and players[{index}] are both named {player.name!r}"
            )
        seen[key] = index
    return players


def check_groups(
    groups: Mapping[str, GroupSettings], players: Sequence[PlayerSettings] | None
) -> Mapping[str, GroupSettings]:
    """Refuse a ``[groups.NAME]`` section that no player belongs to (a typo, usually)."""
    if players is None:  # the players failed validation; that error is reported already
        return groups
    used = {player.group_name for player in players}
    for name in groups:
        if name not in used:
            raise ValueError(
                f"groups.{name}: no player has group = {name!r} (nor that name); "
                f"set it on a player or remove [groups.{name}]"
            )
    return groups


class PlayersSection(BaseModel):
    """The two top-level fields of the players' settings, validated together.

    The application's ``Settings`` carries the same two fields and validators; this model
    lets the players package (and its tests) validate them on their own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    players: tuple[PlayerSettings, ...] = ()
    groups: dict[str, GroupSettings] = Field(default_factory=dict)

    @field_validator("players")
    @classmethod
    def _unique(cls, value: tuple[PlayerSettings, ...]) -> tuple[PlayerSettings, ...]:
        check_unique_names(value)
        return value

    @field_validator("groups")
    @classmethod
    def _known_groups(
        cls, value: dict[str, GroupSettings], info: ValidationInfo
    ) -> dict[str, GroupSettings]:
        players: Any = info.data.get("players")
        check_groups(value, players)
        return value

    def group(self, name: str) -> GroupSettings:
        """The settings of group ``name`` (the defaults when it has no section)."""
        return self.groups.get(name) or GroupSettings()


__all__ = [
    "EXAMPLE_TOML",
    "DuringPlayback",
    "GroupMode",
    "GroupSettings",
    "PathMapping",
    "PlayerSettings",
    "PlayerType",
    "PlayersSection",
    "check_groups",
    "check_unique_names",
]
