"""Metadata providers (TMDB, fanart.tv) on one polite HTTP core; :func:`build_providers`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from relayarr.jobqueue.breaker import BreakerPolicy
from relayarr.jobqueue.clock import Clock, SystemClock
from relayarr.metadata.providers import fanart, tmdb
from relayarr.metadata.providers.fanart import FanartProvider
from relayarr.metadata.providers.http import ProviderHttp, redact_httpx_logs
from relayarr.metadata.providers.limits import ProviderBreaker, RetryPolicy, Sleep, TokenBucket
from relayarr.metadata.providers.tmdb import FindResult, TmdbProvider
from relayarr.metadata.settings import MetadataSettings
from relayarr.metadata.stores import ResponseCache

# Five failed calls in a row (each past its retries) pause a provider for a minute,
# doubling while it stays down, up to half an hour.
BREAKER_POLICY = BreakerPolicy(threshold=5, cooldown=60.0, max_cooldown=1800.0)


@dataclass(frozen=True, slots=True)
class Providers:
    """The configured providers; None where its key is empty (that provider is off)."""

    tmdb: TmdbProvider | None
    fanart: FanartProvider | None


def build_providers(
    settings: MetadataSettings,
    client: httpx.AsyncClient,
    cache: ResponseCache,
    *,
    clock: Clock | None = None,
    sleep: Sleep = asyncio.sleep,
    breaker_policy: BreakerPolicy = BREAKER_POLICY,
) -> Providers:
    """Providers for ``settings``, sharing ``client`` and ``cache``; each has its own rate
    limiter and circuit breaker."""
    clock = clock or SystemClock()
    redact_httpx_logs()
    retry = RetryPolicy(retries=settings.retries, max_retry_after=settings.max_retry_after)

    def http(
        name: str, base: str, rate: float, params: dict[str, str | int], headers: dict[str, str]
    ) -> ProviderHttp:
        return ProviderHttp(
            name,
            base,
            client,
            cache=cache,
            cache_ttl=settings.cache_ttl,
            limiter=TokenBucket(rate, max(1.0, rate), clock, sleep),
            breaker=ProviderBreaker(name, breaker_policy, clock),
            retry=retry,
            clock=clock,
            sleep=sleep,
            auth_params=params,
            auth_headers=headers,
            timeout=settings.timeout,
        )

    tmdb_provider = None
    if settings.tmdb_enabled:
        params, headers = tmdb.auth_for(settings.tmdb_api_key.get_secret_value())
        tmdb_provider = TmdbProvider(
            http(tmdb.NAME, settings.tmdb_url, settings.tmdb_rate, params, headers),
            language=settings.language,
            image_base=settings.tmdb_image_url,
        )
    fanart_provider = None
    if settings.fanart_enabled:
        params = {"api_key": settings.fanart_api_key.get_secret_value()}
        if client_key := settings.fanart_client_key.get_secret_value():
            params["client_key"] = client_key
        fanart_provider = FanartProvider(
            http(fanart.NAME, settings.fanart_url, settings.fanart_rate, params, {})
        )
    return Providers(tmdb_provider, fanart_provider)


__all__ = [
    "BREAKER_POLICY",
    "FanartProvider",
    "FindResult",
    "Providers",
    "TmdbProvider",
    "build_providers",
]
