"""Who may call the API: whoever presents the API key, in any of the ways *arr apps can.

Accepted, in any combination (one match is enough):

* ``X-Api-Key: KEY`` header (the *arr webhook's custom headers, scripts, the dashboard);
* ``?apikey=KEY`` query parameter (a URL pasted into the *arr webhook settings);
* HTTP Basic with the key as password and any username (the *arr's username/password
  fields);
* ``Authorization: Bearer KEY``.

Every presented value is compared with :func:`hmac.compare_digest`, so the time taken does
not tell how much of a guess was right. The key is never logged, and error messages never
echo what was sent.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterator, Mapping

from fastapi import Depends
from starlette.requests import HTTPConnection

from relayarr.errors import Unauthorized
from relayarr.web.context import WebContext, connection_context

HEADER = "x-api-key"
QUERY = "apikey"


def presented_keys(headers: Mapping[str, str], query: Mapping[str, str]) -> Iterator[bytes]:
    """Every credential the request carries, as bytes, in no particular trust order."""
    if (value := headers.get(HEADER)) is not None:
        yield value.encode("utf-8", "surrogateescape")
    if (value := query.get(QUERY)) is not None:
        yield value.encode("utf-8", "surrogateescape")
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            yield credentials.strip().encode("utf-8", "surrogateescape")
        elif scheme == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True)
            except (binascii.Error, ValueError):
                return
            _, colon, password = decoded.partition(b":")
            if colon:
                yield password


def is_authorized(expected: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """True when one presented credential equals ``expected`` (constant time per value)."""
    matched = False
    for candidate in presented_keys(headers, query):
        # No early exit: every candidate is compared, so timing says nothing either way.
        matched |= hmac.compare_digest(candidate, expected)
    return matched


def require(expected: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
    """Raise :class:`Unauthorized` unless the headers or query present ``expected``."""
    if not is_authorized(expected, headers, query):
        raise Unauthorized(
            "missing or wrong API key: send the X-Api-Key header, the apikey query "
            "parameter, or HTTP Basic credentials with the key as password"
        )


def check(connection: HTTPConnection, ctx: WebContext) -> None:
    """Raise :class:`Unauthorized` unless ``connection`` presents the API key."""
    require(ctx.api_key, connection.headers, connection.query_params)


async def require_key(connection: HTTPConnection) -> None:
    """FastAPI dependency guarding a route with :func:`check`.

    Async although it never awaits: FastAPI runs plain functions in a thread pool, and
    that hop (and its wait for the GIL) would cost more than everything else here."""
    check(connection, connection_context(connection))


RequireKey = Depends(require_key)

__all__ = [
    "HEADER",
    "QUERY",
    "RequireKey",
    "check",
    "is_authorized",
    "presented_keys",
    "require",
]
