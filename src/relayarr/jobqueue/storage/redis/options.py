"""What a ``redis://`` URL asks for, and how to print it without its password."""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from relayarr.jobqueue.errors import InvalidURL

SCHEMES = ("redis", "rediss")
DEFAULT_PREFIX = "relayarr:"
DEFAULT_RETRY_FOR = 30.0  # seconds an operation keeps retrying while the server is away
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_SOCKET_TIMEOUT = 30.0
DEFAULT_EVENT_RETENTION = 100_000  # newest events the shared log keeps (about; see events)
SECRET_OPTIONS = frozenset({"password"})


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """``redis://[[user]:password@]host:port/db?prefix=relayarr:&retry_for=30``.

    ``prefix`` namespaces every key (several queues can share one database);
    ``retry_for`` is how long an operation keeps retrying with backoff while the server
    cannot be reached; ``socket_timeout`` how long a reply may take before the connection
    counts as broken (applied per batch by the engine, not per socket call by redis-py:
    redis-py's per-call timeouts halved the round trips a connection could make).
    cannot be reached (a restart, a failover) before it fails with StorageUnavailable.
    ``event_retention`` is about how many of the newest events the shared event log keeps
    (trimmed with ``XADD MAXLEN ~``, so a little more may stay; default 100,000).
    Other query options (``socket_connect_timeout``, ``ssl_cert_reqs``...) go to redis-py.
    """

    driver_url: str = ""  # the URL for redis-py: our options removed
    where: str = ""  # the URL without its password, for messages and logs
    prefix: str = DEFAULT_PREFIX
    retry_for: float = DEFAULT_RETRY_FOR
    timeout: float = DEFAULT_SOCKET_TIMEOUT
    db: int = 0
    event_retention: int = DEFAULT_EVENT_RETENTION

    @classmethod
    def from_url(cls, url: str) -> RedisOptions:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise InvalidURL(f"not a redis URL: {parts.scheme}://")
        where = redact(url)
        if not parts.hostname:
            raise InvalidURL(f"a redis URL needs a host, e.g. redis://127.0.0.1:6379/0 ({where})")
        try:
            parts.port  # noqa: B018  # raises on a malformed port
        except ValueError as exc:
            raise InvalidURL(f"bad port in redis URL {where}") from exc
        path = unquote(parts.path).strip("/")
        if path and not path.isdigit():
            raise InvalidURL(f"the redis database must be a number, got {path!r} ({where})")
        options = parse_qsl(parts.query, keep_blank_values=True)
        mine = ("prefix", "retry_for", "socket_timeout", "event_retention")
        ours = {name: value for name, value in options if name in mine}
        rest = [(name, value) for name, value in options if name not in mine]
        names = {name for name, _ in rest}
        if "socket_connect_timeout" not in names:
            rest.append(("socket_connect_timeout", str(DEFAULT_CONNECT_TIMEOUT)))
        prefix = ours.get("prefix", DEFAULT_PREFIX)
        if not prefix:
            raise InvalidURL(f"prefix must not be empty ({where})")
        try:
            retry_for = float(ours.get("retry_for", DEFAULT_RETRY_FOR))
        except ValueError as exc:
            raise InvalidURL(f"retry_for must be a number of seconds ({where})") from exc
        if not math.isfinite(retry_for) or retry_for < 0:
            raise InvalidURL(f"retry_for must be a finite number of seconds >= 0 ({where})")
        try:
            timeout = float(ours.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT))
        except ValueError as exc:
            raise InvalidURL(f"socket_timeout must be a number of seconds ({where})") from exc
        if not math.isfinite(timeout) or timeout <= 0:
            raise InvalidURL(f"socket_timeout must be a finite number of seconds > 0 ({where})")
        try:
            event_retention = int(ours.get("event_retention", DEFAULT_EVENT_RETENTION))
        except ValueError as exc:
            raise InvalidURL(f"event_retention must be a whole number ({where})") from exc
        if event_retention < 1:
            raise InvalidURL(f"event_retention must be >= 1 ({where})")
        db = int(path) if path else 0
        driver_url = urlunsplit(parts._replace(query=urlencode(rest)))
        return cls(
            driver_url=driver_url,
            where=where,
            prefix=prefix,
            retry_for=retry_for,
            timeout=timeout,
            db=db,
            event_retention=event_retention,
        )


def redact(url: str) -> str:
    """The URL with any password (in the userinfo or a ``password=`` option) removed."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return f"{url.split('://', 1)[0]}://<unparsable URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    if parts.username:
        netloc = f"{quote(unquote(parts.username), safe='')}@{netloc}"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name not in SECRET_OPTIONS
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe=":/"), ""))
