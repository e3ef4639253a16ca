"""relayarr's settings: one TOML file, every key overridable by ``RELAYARR_*`` variables.

Precedence, highest first: explicit overrides (command-line flags such as ``--queue-url``),
environment variables (``RELAYARR_QUEUE__CONCURRENCY=8``; ``RELAYARR_QUEUE_URL`` is a
shortcut for ``RELAYARR_QUEUE__URL``), the TOML file (``--config FILE`` or
``RELAYARR_CONFIG``), then the defaults below. Build the settings once, at the entry
point, with :func:`load_settings`, and pass them down; nothing here reads the environment
or a file at import time.

.. code-block:: toml

    data_dir = "/var/lib/relayarr"      # RELAYARR_DATA_DIR

    [queue]
    url = "sqlite:////var/lib/relayarr/queue.db"  # RELAYARR_QUEUE_URL / RELAYARR_QUEUE__URL
    concurrency = 4                     # RELAYARR_QUEUE__CONCURRENCY

    [server]
    host = "127.0.0.1"                  # RELAYARR_SERVER__HOST
    port = 7878                         # RELAYARR_SERVER__PORT
    api_key = "..."                     # RELAYARR_API_KEY / RELAYARR_SERVER__API_KEY

    [log]
    level = "info"                      # RELAYARR_LOG__LEVEL
    json = false                        # RELAYARR_LOG__JSON

    [[players]]                         # media players to tell: relayarr.players.settings
    name = "living-room"
    ...

``relayarr config init`` writes this file with every key, its default and its meaning.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticUndefined
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources import InitSettingsSource

from relayarr.errors import ConfigError
from relayarr.library.settings import LibrarySettings, MappingSettings
from relayarr.metadata.settings import MetadataSettings
from relayarr.players.settings import (
    EXAMPLE_TOML,
    GroupSettings,
    PlayerSettings,
    check_groups,
    check_unique_names,
)

ENV_PREFIX = "RELAYARR_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV = "RELAYARR_CONFIG"
QUEUE_URL_SHORTCUT_ENV = "RELAYARR_QUEUE_URL"
API_KEY_SHORTCUT_ENV = "RELAYARR_API_KEY"
MIN_API_KEY_LENGTH = 16

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class QueueSettings(BaseModel):
    """The ``[queue]`` section: which database, and how the workers run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(
        default=None,
        min_length=1,
        description="sqlite:///path, postgresql://..., redis://...; default: SQLite in data_dir",
        examples=["sqlite:///data/queue.db"],
    )
    concurrency: int = Field(default=4, ge=1, description="jobs a worker runs at a time")
    lease_seconds: float = Field(default=30.0, gt=0, description="lease length without heartbeat")
    poll_interval: float = Field(default=1.0, gt=0, description="longest idle wait between looks")
    max_rescues: int = Field(default=3, ge=0, description="expired leases before a job is poison")
    stop_timeout: float = Field(
        default=30.0, ge=0, description="seconds a stopping worker lets running jobs finish"
    )
    history_days: float = Field(
        default=0.0,
        ge=0,
        description="delete finished jobs older than this many days, once a day (0: keep them all)",
        examples=[90],
    )


class ServerSettings(BaseModel):
    """The ``[server]`` section: where ``relayarr serve`` listens and who it lets in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", min_length=1, description="address to listen on")
    port: int = Field(default=7878, ge=1, le=65535, description="TCP port to listen on")
    # SecretStr: the key never shows in a repr, a log line or a validation error.
    api_key: SecretStr | None = Field(
        default=None,
        description="key for webhooks and the API; default: generated on first run and "
        "kept in <data_dir>/api_key",
        examples=["a-long-random-string-of-your-choice"],
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest request body accepted (bytes)"
    )
    metrics_public: bool = Field(
        default=False, description="serve /metrics without the API key (bind to localhost!)"
    )

    @field_validator("api_key")
    @classmethod
    def _usable_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        key = value.get_secret_value()
        if len(key) < MIN_API_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_API_KEY_LENGTH} characters")
        if not all("!" <= ch <= "~" for ch in key):
            # It travels in headers, URLs and Basic credentials: printable ASCII only.
            raise ValueError("must be printable ASCII without spaces")
        return value


class LogSettings(BaseModel):
    """The ``[log]`` section: how verbose, and plain text or JSON lines."""

    # ``json`` is the key users write; as an attribute it would shadow BaseModel.json.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    level: LogLevel = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    json_lines: bool = Field(
        default=False, validation_alias="json", description="one JSON object per log line"
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """Every setting of relayarr, validated. Load it with :func:`load_settings`.

    Constructing it directly reads ``RELAYARR_*`` variables but no file; keyword
    arguments win over both (they are how command-line flags override).
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default=Path("data"), description="where relayarr keeps its files")
    queue: QueueSettings = QueueSettings()
    server: ServerSettings = ServerSettings()
    log: LogSettings = LogSettings()
    library: LibrarySettings = LibrarySettings()
    mappings: tuple[MappingSettings, ...] = Field(
        default=(),
        description="a path as an *arr sends it -> the same path as relayarr sees it",
    )
    players: list[PlayerSettings] = Field(
        default_factory=list, description="media players to tell ([[players]])"
    )
    groups: dict[str, GroupSettings] = Field(
        default_factory=dict, description="player groups ([groups.NAME])"
    )
    # None (no [metadata] section) leaves the media folders alone: writing NFOs and
    # artwork beside someone's media is something they opt into.
    metadata: MetadataSettings | None = Field(
        default=None,
        description="metadata publishing (Kodi NFOs and artwork); absent: none is written",
    )

    @field_validator("players")
    @classmethod
    def _unique_players(cls, value: list[PlayerSettings]) -> list[PlayerSettings]:
        check_unique_names(value)
        return value

    @field_validator("groups")
    @classmethod
    def _known_groups(
        cls, value: dict[str, GroupSettings], info: ValidationInfo
    ) -> dict[str, GroupSettings]:
        check_groups(value, info.data.get("players"))
        return value

    @property
    def queue_url(self) -> str:
        """The queue URL in effect: ``queue.url``, or a SQLite file in ``data_dir``."""
        return self.queue.url or sqlite_url(self.data_dir / "queue.db")

    @property
    def library_database_url(self) -> str:
        """The library database in effect: ``library.database_url``, or a SQLite file in
        ``data_dir``."""
        return self.library.database_url or sqlite_url(self.data_dir / "library.db")

    @property
    def assets_dir(self) -> Path:
        """Where the protected copies of published NFOs and artwork are kept."""
        return self.data_dir / "assets"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Overrides, then the environment, then the file being loaded (no .env, no secrets)."""
        shortcuts: dict[str, Any] = {}
        if url := os.environ.get(QUEUE_URL_SHORTCUT_ENV):
            shortcuts["queue"] = {"url": url}
        if key := os.environ.get(API_KEY_SHORTCUT_ENV):
            shortcuts["server"] = {"api_key": key}
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, shortcuts),
            InitSettingsSource(settings_cls, dict(_file_layer.get() or {})),
        )


# The parsed TOML file for the Settings being built by load_settings: pydantic-settings
# builds sources in a classmethod, so this is how one call's file reaches it.
_file_layer: ContextVar[Mapping[str, Any] | None] = ContextVar(
    "relayarr_config_file_layer", default=None
)


def sqlite_url(path: Path) -> str:
    """``sqlite:///`` URL of a file path: ``sqlite:///data/q.db``, ``sqlite:////abs/q.db``."""
    return f"sqlite:///{path}"


def load_settings(
    config_file: Path | None = None, *, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build the settings from ``config_file`` (or ``$RELAYARR_CONFIG``), the environment and
    ``overrides`` (nested mappings, e.g. ``{"queue": {"url": ...}}``), in that rising order.

    Raises :class:`ConfigError` naming the file or environment variable and the bad key,
    e.g. ``relayarr.toml: queue.concurrency: Input should be a valid integer``.
    """
    if config_file is None and os.environ.get(CONFIG_ENV):
        config_file = Path(os.environ[CONFIG_ENV])
    data = read_toml(config_file) if config_file is not None else {}
    try:
        with _loading(data):
            return Settings(**dict(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(describe(exc, config_file, data)) from None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML config file; raise :class:`ConfigError` naming it if that fails."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"config file not found ({path})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror} ({path})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file is not valid TOML: {exc} ({path})") from None


@contextmanager
def _loading(data: dict[str, Any]) -> Iterator[None]:
    token = _file_layer.set(data)
    try:
        yield
    finally:
        _file_layer.reset(token)


def describe(exc: ValidationError, config_file: Path | None, data: Mapping[str, Any]) -> str:
    """One line naming, for each error, where the bad value came from and its dotted key."""
    parts = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        key = ".".join(loc)
        message = error["msg"]
        parts.append(f"{_origin(loc, config_file, data)}: {key}: {message}")
    return "invalid configuration: " + "; ".join(parts)


def _origin(loc: list[str], config_file: Path | None, data: Mapping[str, Any]) -> str:
    """Which layer supplied the value at ``loc``: an environment variable, or the file."""
    environ = {name.upper(): name for name in os.environ}
    nested = ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc).upper()
    if nested in environ:
        return environ[nested]
    if loc == ["queue", "url"] and QUEUE_URL_SHORTCUT_ENV in environ:
        return QUEUE_URL_SHORTCUT_ENV
    if loc == ["server", "api_key"] and API_KEY_SHORTCUT_ENV in environ:
        return API_KEY_SHORTCUT_ENV
    if config_file is not None and _has_key(data, loc):
        return str(config_file)
    # A section given whole in the environment (RELAYARR_QUEUE='{...}'), or an override.
    for depth in range(len(loc) - 1, 0, -1):
        section = ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc[:depth]).upper()
        if section in environ:
            return environ[section]
    return "settings" if config_file is None else str(config_file)


_TEMPLATE_HEAD = """\
# relayarr configuration (TOML). Every key below shows its default; uncomment to change it.
# Environment variables override this file: RELAYARR_<SECTION>__<KEY>, for example
# RELAYARR_QUEUE__CONCURRENCY=8, plus the shortcuts RELAYARR_QUEUE_URL and RELAYARR_API_KEY.
# Check a file with: relayarr config check FILE
"""


def default_config_toml() -> str:
    """A commented TOML file listing every setting with its default and meaning.

    Generated from the models, so a new setting shows up here by itself; every line is a
    comment, so the file loads as the defaults. Lists of tables (``[[library.roots]]``,
    ``[[mappings]]``) show one example entry.
    """
    lines = [_TEMPLATE_HEAD]
    sections: list[tuple[str, type[BaseModel]]] = []
    tables: list[tuple[str, Any]] = []
    optional: list[tuple[str, type[BaseModel]]] = []
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            sections.append((name, annotation))
        elif (model := _optional_model(annotation)) is not None:
            optional.append((name, model))
        elif name in ("players", "groups"):
            continue  # tables of tables: shown by the example at the end
        elif _table_model(annotation) is not None:
            tables.append((name, info))
        else:
            lines.extend(_template_key(name, info))
    for name, model in sections:
        lines.append(f"\n[{name}]")
        nested: list[tuple[str, Any]] = []
        for key, info in model.model_fields.items():
            if _table_model(info.annotation) is not None:
                nested.append((f"{name}.{key}", info))
            else:
                lines.extend(_template_key(_key_name(key, info), info))
        lines.extend(_template_table(*table) for table in nested)
    lines.extend(_template_table(*table) for table in tables)
    for name, model in optional:
        lines.extend(_template_optional(name, model, Settings.model_fields[name]))
    lines.append("")
    lines.extend(_commented_example(EXAMPLE_TOML))
    return "\n".join(lines) + "\n"


def _commented_example(example: str) -> list[str]:
    """An example, commented out so that removing one leading ``# `` per line enables it.

    Its opening comment paragraph is already a comment and stays as written.
    """
    intro, _, body = example.partition("\n\n")
    return [*intro.splitlines(), "#", *(f"# {line}" if line else "#" for line in body.splitlines())]


def _optional_model(annotation: Any) -> type[BaseModel] | None:
    """The model of an optional section (``MetadataSettings | None``), else None."""
    args = get_args(annotation)
    if len(args) != 2 or type(None) not in args:
        return None
    model = next(arg for arg in args if arg is not type(None))
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _template_optional(name: str, model: type[BaseModel], info: Any) -> list[str]:
    """An optional section, header included, all commented: its mere presence turns the
    feature on, so the template must not."""
    lines = [f"\n# {info.description}", f"# [{name}]"]
    for key, field in model.model_fields.items():
        lines.extend(_template_key(_key_name(key, field), field))
    return lines


def _table_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a list-of-tables setting (``tuple[MappingSettings, ...]``), else None."""
    if get_origin(annotation) not in (list, tuple):
        return None
    item = get_args(annotation)[0]
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _template_table(name: str, info: Any) -> str:
    model = _table_model(info.annotation)
    assert model is not None
    lines = [f"\n# {info.description}", f"# [[{name}]]"]
    for key, field in model.model_fields.items():
        lines.extend(_template_key(_key_name(key, field), field)[1:])
    return "\n".join(lines)


def _key_name(key: str, info: Any) -> str:
    alias = info.validation_alias
    return alias if isinstance(alias, str) else key


def _template_key(key: str, info: Any) -> list[str]:
    # An example, where given, reads better than the default (reconcile_every's "6h").
    value = info.examples[0] if info.examples else info.default
    if value is PydanticUndefined:
        value = ""
    text = _toml_value(value)
    lines = [f"# {info.description}"] if info.description else []
    return ["", *lines, f"# {key} = {text}"]


def _toml_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # A JSON string of printable text is a valid TOML basic string.
    return json.dumps(str(value))


def _has_key(data: Mapping[str, Any], loc: list[str]) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


__all__ = [
    "ConfigError",
    "LibrarySettings",
    "LogSettings",
    "MappingSettings",
    "QueueSettings",
    "ServerSettings",
    "Settings",
    "default_config_toml",
    "load_settings",
    "read_toml",
    "sqlite_url",
]
