"""One provider's JSON over HTTP: cache, breaker, rate limit, retries, one error tree.

:meth:`ProviderHttp.get_json` is the only way the TMDB and fanart.tv clients talk to
their service. In order: the response cache answers if it can; the circuit breaker may
refuse; the token bucket paces; the request goes out; 429, 5xx and transport errors are
retried (``Retry-After`` honoured up to a cap); the answer becomes a JSON object or a
:class:`~relayarr.errors.ProviderError` naming the provider and what was asked for.

API keys travel as query parameters (TMDB v3 keys, fanart.tv) or a bearer header (TMDB
v4 tokens). They are never part of a cache key, an error or a log line of ours, and
:func:`redact_httpx_logs` masks them in httpx's own request log.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from urllib.parse import urlencode

import httpx
import orjson

from relayarr.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderNotFound,
    ProviderUnavailable,
)
from relayarr.jobqueue.clock import Clock
from relayarr.jobqueue.models import JSONObject
from relayarr.metadata.providers.limits import (
    CircuitOpen,
    ProviderBreaker,
    RetryPolicy,
    Sleep,
    TokenBucket,
    parse_retry_after,
)
from relayarr.metadata.stores import ResponseCache

logger = logging.getLogger(__name__)

Params = Mapping[str, str | int]


class ProviderHttp:
    """GET JSON objects from one provider's API, politely and with clear errors."""

    def __init__(
        self,
        name: str,
        base_url: str,
        client: httpx.AsyncClient,
        *,
        cache: ResponseCache,
        cache_ttl: float,
        limiter: TokenBucket,
        breaker: ProviderBreaker,
        retry: RetryPolicy,
        clock: Clock,
        sleep: Sleep,
        auth_params: Params | None = None,
        auth_headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._base = base_url.rstrip("/")
        self._client = client
        self._cache = cache
        self._ttl = cache_ttl
        self._limiter = limiter
        self._breaker = breaker
        self._retry = retry
        self._clock = clock
        self._sleep = sleep
        self._auth_params = dict(auth_params or {})
        self._auth_headers = dict(auth_headers or {})
        self._timeout = timeout

    async def get_json(self, path: str, params: Params, *, subject: str) -> JSONObject:
        """The JSON object at ``path``; ``subject`` names it in errors (``movie 329865``).

        Raises :class:`ProviderNotFound` (404), :class:`ProviderAuthError` (401/403),
        :class:`ProviderBadResponse` (not a JSON object, other 4xx) or
        :class:`ProviderUnavailable` (down, 5xx/429 past the retries, circuit open).
        """
        key = f"{self.name}:{path}?{urlencode(sorted(params.items()))}"
        if self._ttl > 0 and (cached := await self._cache.get(key)) is not None:
            return _decode(cached, self.name, subject)
        try:
            self._breaker.enter()
        except CircuitOpen as exc:
            raise ProviderUnavailable(
                self.name,
                subject,
                f"not called: too many failures, circuit open for {exc.retry_after:.0f} s",
                retry_after=exc.retry_after,
            ) from None
        try:
            body = await self._fetch(path, params, subject)
        except (ProviderNotFound, ProviderAuthError):
            self._breaker.success()  # it answered: the service itself is up
            raise
        except (ProviderUnavailable, ProviderBadResponse):
            self._breaker.failure()
            raise
        try:
            data = _decode(body, self.name, subject)
        except ProviderBadResponse:
            self._breaker.failure()
            raise
        self._breaker.success()
        if self._ttl > 0:
            await self._cache.put(key, body, self._ttl)
        return data

    async def _fetch(self, path: str, params: Params, subject: str) -> bytes:
        url = f"{self._base}/{path.lstrip('/')}"
        query = {**params, **self._auth_params}
        problem = "no answer"
        retry_after: float | None = None
        for attempt in range(self._retry.retries + 1):
            if attempt:
                delay = retry_after if retry_after is not None else self._retry.backoff(attempt)
                logger.info(
                    "provider call retried",
                    extra={
                        "provider": self.name,
                        "subject": subject,
                        "attempt": attempt,
                        "delay_s": round(delay, 3),
                        "problem": problem,
                    },
                )
                await self._sleep(delay)
            await self._limiter.acquire()
            started = time.perf_counter()
            try:
                response = await self._client.get(
                    url, params=query, headers=self._auth_headers, timeout=self._timeout
                )
            except httpx.TimeoutException:
                problem, retry_after = f"no answer within {self._timeout:g} s", None
                continue
            except httpx.HTTPError as exc:
                problem, retry_after = f"cannot connect ({type(exc).__name__})", None
                continue
            logger.debug(
                "provider answered",
                extra={
                    "provider": self.name,
                    "subject": subject,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            status = response.status_code
            if status == 200:
                return response.content
            if status == 429 or status >= 500:
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), self._clock.now()
                )
                problem = f"HTTP {status}{_message(response)}"
                if retry_after is not None and retry_after > self._retry.max_retry_after:
                    raise ProviderUnavailable(
                        self.name,
                        subject,
                        f"{problem}, asked to wait {retry_after:.0f} s",
                        retry_after=retry_after,
                    )
                continue
            raise _client_error(self.name, subject, status, _message(response))
        raise ProviderUnavailable(
            self.name,
            subject,
            f"{problem} after {self._retry.retries + 1} attempts",
            retry_after=retry_after,
        )


def _client_error(
    name: str, subject: str, status: int, message: str
) -> ProviderNotFound | ProviderAuthError | ProviderBadResponse:
    if status == 404:
        return ProviderNotFound(name, subject, f"unknown id (HTTP 404{message})")
    if status in (401, 403):
        return ProviderAuthError(
            name, subject, f"the API key was refused (HTTP {status}{message}); check it"
        )
    return ProviderBadResponse(name, subject, f"request refused (HTTP {status}{message})")


def _message(response: httpx.Response) -> str:
    """The provider's own short error text, if its body carries one."""
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(data, dict):
        return ""
    text = data.get("status_message") or data.get("error message") or data.get("message")
    return f": {str(text)[:200]}" if text else ""


def _decode(body: bytes, name: str, subject: str) -> JSONObject:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProviderBadResponse(name, subject, f"answer is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ProviderBadResponse(name, subject, "answer is JSON but not an object")
    return data


_SECRET_PARAM = re.compile(r"((?:api_key|client_key)=)[^&\s\"']+")


class _RedactKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_PARAM.sub(r"\1***", str(arg)) if isinstance(arg, httpx.URL | str) else arg
                for arg in record.args
            )
        record.msg = _SECRET_PARAM.sub(r"\1***", str(record.msg))
        return True


def redact_httpx_logs() -> None:
    """Mask ``api_key=``/``client_key=`` in httpx's request log lines (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactKeys) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactKeys())


__all__ = ["Params", "ProviderHttp", "redact_httpx_logs"]
