"""Where the API key comes from: the settings, else ``<data_dir>/api_key``, else a new one.

``server.api_key`` (also ``RELAYARR_API_KEY``) wins. Without it, the key is read from the
key file, created on the first run with a random key (:func:`secrets.token_urlsafe`,
256 bits) and mode 0600. Only the run that creates it shows it, once.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from relayarr.config import MIN_API_KEY_LENGTH, Settings
from relayarr.errors import ConfigError

logger = logging.getLogger(__name__)

KEY_FILE = "api_key"
KEY_BYTES = 32


@dataclass(frozen=True)
class ApiKey:
    """The key in effect; ``generated`` is true only on the run that created the file."""

    value: str = field(repr=False)
    origin: str
    generated: bool = False


def key_path(settings: Settings) -> Path:
    """``<data_dir>/api_key``."""
    return settings.data_dir / KEY_FILE


def resolve_api_key(settings: Settings) -> ApiKey:
    """The API key to use; creates the key file on first use. Raises :class:`ConfigError`
    when the key file cannot be read or written, or holds an unusable key."""
    if settings.server.api_key is not None:
        return ApiKey(settings.server.api_key.get_secret_value(), "settings")
    path = key_path(settings)
    try:
        return ApiKey(_read(path), str(path))
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(KEY_BYTES)
    temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(value + "\n")
        # link() publishes the complete file atomically and fails if one exists already.
        os.link(temporary, path)
    except FileExistsError:
        # Another process created it a moment ago: use that one, so both agree.
        return ApiKey(_read(path), str(path))
    except OSError as exc:
        raise ConfigError(f"cannot create the API key file: {exc.strerror} ({path})") from None
    finally:
        temporary.unlink(missing_ok=True)
    return ApiKey(value, str(path), generated=True)


def _read(path: Path) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read the API key file: {reason} ({path})") from None
    if len(value) < MIN_API_KEY_LENGTH or not all("!" <= ch <= "~" for ch in value):
        raise ConfigError(
            f"the API key file holds no usable key (at least {MIN_API_KEY_LENGTH} printable "
            f"ASCII characters); delete it to get a new key ({path})"
        )
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            "the API key file is readable by other users; chmod 600 it",
            extra={"service": "web", "path": str(path)},
        )
    return value


def first_run_notice(key: ApiKey, base_url: str) -> str:
    """What the first run prints on stdout: the key, once, and how to use it."""
    return (
        f"relayarr: generated an API key, stored in {key.origin} (shown only this once):\n"
        f"\n    {key.value}\n\n"
        "In Radarr/Sonarr: Settings > Connect > + > Webhook, with\n"
        f"    URL   {base_url}/api/v1/webhooks/radarr   (or .../sonarr)\n"
        "    and either Username: relayarr, Password: the key,\n"
        "    or the header X-Api-Key: <the key> (or append ?apikey=<the key> to the URL).\n"
        "Set RELAYARR_API_KEY or server.api_key to choose the key yourself.\n"
        f"The dashboard is at {base_url}/ (log in with the key).\n"
    )


__all__ = ["KEY_FILE", "ApiKey", "first_run_notice", "key_path", "resolve_api_key"]
