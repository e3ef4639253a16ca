"""One player's HTTP connection: timeouts, a cap on requests in flight, errors in one place.

Every notifier talks to its player through one :class:`PlayerHttp`, which owns one
``httpx.AsyncClient``. It turns every transport failure and unexpected answer into a
:class:`~relayarr.errors.PlayerError` naming the player, so a notifier never handles
httpx exceptions itself. Credentials travel in headers or Basic auth only, never in a
URL, so no message or log line built here can carry them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Mapping

import httpx
import orjson

from relayarr.errors import PlayerAuthFailed, PlayerBadAnswer, PlayerUnreachable

log = logging.getLogger(__name__)

USER_AGENT = "relayarr/0.1"


class PlayerHttp:
    """HTTP to one player at ``base_url``, at most ``max_requests`` requests at a time.

    ``timeout`` bounds each request as a whole (connect, write, read), so a player that
    accepts the connection and never answers costs at most that long.
    """

    def __init__(
        self,
        player: str,
        base_url: str,
        *,
        timeout: float,
        max_requests: int = 1,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.player = player
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max_requests)
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            auth=auth,
            follow_redirects=False,
            trust_env=False,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        expect: Collection[int] = (200,),
    ) -> httpx.Response:
        """Send one request and return the answer when its status is in ``expect``.

        Raises :class:`PlayerUnreachable` (refused, reset, timed out),
        :class:`PlayerAuthFailed` (401/403) or :class:`PlayerBadAnswer` (anything else).
        """
        content = None if json is None else orjson.dumps(json)
        headers = None if json is None else {"Content-Type": "application/json"}
        started = time.monotonic()
        async with self._slots:
            try:
                async with asyncio.timeout(self.timeout):
                    response = await self._client.request(
                        method, path, params=params, content=content, headers=headers
                    )
            except (TimeoutError, httpx.TimeoutException):
                raise PlayerUnreachable(
                    self.player, f"no answer within {self.timeout:g} s to {method} {path}"
                ) from None
            except httpx.RemoteProtocolError as exc:
                raise PlayerBadAnswer(
                    self.player, f"{method} {path}: the answer is not HTTP ({exc})"
                ) from None
            except httpx.TransportError as exc:
                reason = str(exc) or type(exc).__name__
                raise PlayerUnreachable(
                    self.player, f"cannot reach {self.base_url}: {reason}"
                ) from None
        status = response.status_code
        log.debug(
            "player answered",
            extra={
                "player": self.player,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        if status in (401, 403):
            raise PlayerAuthFailed(
                self.player, f"refused the credentials (HTTP {status} to {method} {path})"
            )
        if status not in expect:
            raise PlayerBadAnswer(self.player, f"{method} {path} answered HTTP {status}")
        return response

    async def get_json(self, path: str, *, params: Mapping[str, str | int] | None = None) -> object:
        """GET ``path`` and parse its JSON body (any JSON value)."""
        return self.json_of(await self.request("GET", path, params=params), path)

    def json_of(self, response: httpx.Response, path: str) -> object:
        """The JSON body of ``response``; :class:`PlayerBadAnswer` when it is not JSON."""
        try:
            value: object = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise PlayerBadAnswer(
                self.player, f"{response.request.method} {path}: the answer is not JSON"
            ) from None
        return value

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


class Shape:
    """Reads the parts of a player's JSON answer that its API always sends, and turns a
    missing or mistyped part into :class:`PlayerBadAnswer` naming what was expected."""

    def __init__(self, player: str) -> None:
        self.player = player

    def obj(self, value: object, where: str) -> dict[str, object]:
        """``value`` as a JSON object."""
        if isinstance(value, dict):
            return value
        raise PlayerBadAnswer(self.player, f"{where}: expected a JSON object")

    def array(self, value: object, where: str) -> list[object]:
        """``value`` as a JSON array."""
        if isinstance(value, list):
            return value
        raise PlayerBadAnswer(self.player, f"{where}: expected a JSON array")

    def text(self, value: Mapping[str, object], key: str, where: str) -> str:
        """The string at ``value[key]``."""
        found = value.get(key)
        if isinstance(found, str):
            return found
        raise PlayerBadAnswer(self.player, f"{where}: the answer has no string {key!r}")

    def texts(self, value: Mapping[str, object], key: str, where: str) -> list[str]:
        """The array of strings at ``value[key]`` (missing: empty)."""
        found = value.get(key, [])
        if isinstance(found, list) and all(isinstance(item, str) for item in found):
            return [str(item) for item in found]
        raise PlayerBadAnswer(self.player, f"{where}: {key!r} is not an array of strings")


__all__ = ["USER_AGENT", "PlayerHttp", "Shape"]
