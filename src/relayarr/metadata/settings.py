"""The ``[metadata]`` section: providers, language, and what the publisher writes.

.. code-block:: toml

    [metadata]
    tmdb_api_key = ""             # empty: no TMDB calls
    fanart_api_key = ""           # empty: no fanart.tv calls
    language = "en-US"            # falls back to the original language, then English
    nfo = "video"                 # video: <video stem>.nfo | movie: movie.nfo | off
    artwork = ["poster", "fanart", "clearlogo"]
    artwork_style = "video"       # video: <video stem>-poster.jpg | folder: poster.jpg

The names above are a contract (documented for users); the keys after them are additions
with safe defaults. The base URLs exist so tests (and proxies) can point them elsewhere.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

ArtworkKind = Literal[
    "poster", "fanart", "clearlogo", "clearart", "discart", "banner", "landscape", "keyart"
]
"""Artwork types the publisher knows, named as Kodi names them (``discart``, not ``disc``)."""

NfoMode = Literal["video", "movie", "off"]
ArtworkStyle = Literal["video", "folder"]

_LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


class MetadataSettings(BaseModel):
    """Every setting of the metadata providers and the publisher, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # SecretStr: keys never show in a repr, a log line or a validation error.
    tmdb_api_key: SecretStr = Field(
        default=SecretStr(""),
        description="TMDB v3 API key or v4 read access token; empty: no TMDB calls",
    )
    fanart_api_key: SecretStr = Field(
        default=SecretStr(""), description="fanart.tv project API key; empty: no fanart.tv calls"
    )
    fanart_client_key: SecretStr = Field(
        default=SecretStr(""), description="fanart.tv personal API key (optional, faster art)"
    )
    language: str = Field(
        default="en-US",
        description="metadata language (ISO 639-1, optionally -COUNTRY); falls back to the "
        "original language, then English",
    )
    nfo: NfoMode = Field(
        default="video", description="video: <video stem>.nfo | movie: movie.nfo | off"
    )
    artwork: tuple[ArtworkKind, ...] = Field(
        default=("poster", "fanart", "clearlogo"), description="artwork types to publish"
    )
    artwork_style: ArtworkStyle = Field(
        default="video", description="video: <video stem>-poster.jpg | folder: poster.jpg"
    )
    tmdb_url: str = Field(default="https://api.themoviedb.org/3", description="TMDB API base")
    tmdb_image_url: str = Field(
        default="https://image.tmdb.org/t/p/", description="TMDB image base"
    )
    fanart_url: str = Field(
        default="https://webservice.fanart.tv/v3", description="fanart.tv API base"
    )
    cache_ttl: float = Field(
        default=7 * 86400.0, ge=0, description="seconds a provider answer is reused"
    )
    timeout: float = Field(default=10.0, gt=0, description="seconds per provider request")
    retries: int = Field(default=3, ge=0, le=10, description="retries on 429, 5xx and timeouts")
    max_retry_after: float = Field(
        default=60.0,
        ge=0,
        description="longest Retry-After waited in place; a longer one fails the call and "
        "tells the job when to try again",
    )
    tmdb_rate: float = Field(default=40.0, gt=0, description="TMDB requests per second at most")
    fanart_rate: float = Field(default=10.0, gt=0, description="fanart.tv requests per second")
    enrich_retry_seconds: float = Field(
        default=300.0,
        gt=0,
        description="an enrichment that failed for now (provider down, rate limited) is "
        "tried again after this long, doubling, by a job of its own",
    )
    max_image_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="largest image downloaded (bytes)"
    )

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError("must look like 'en' or 'en-US'")
        return value

    @field_validator("artwork")
    @classmethod
    def _unique(cls, value: tuple[ArtworkKind, ...]) -> tuple[ArtworkKind, ...]:
        return tuple(dict.fromkeys(value))

    @field_validator("tmdb_url", "tmdb_image_url", "fanart_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def publishes(self) -> bool:
        """True when there is something to write: an NFO or at least one artwork type.
        With neither, the pipeline skips enrichment and publishing altogether."""
        return self.nfo != "off" or bool(self.artwork)

    @property
    def tmdb_enabled(self) -> bool:
        return bool(self.tmdb_api_key.get_secret_value())

    @property
    def fanart_enabled(self) -> bool:
        return bool(self.fanart_api_key.get_secret_value())


__all__ = ["ArtworkKind", "ArtworkStyle", "MetadataSettings", "NfoMode"]
