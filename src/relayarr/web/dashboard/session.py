"""Dashboard sessions: the API key traded once for a random cookie, kept in memory.

A session is a random token (256 bits) in an HttpOnly, SameSite=Strict cookie; the
server keeps only its SHA-256, so a dict lookup (not constant time) reveals nothing useful
about a live token. Each session has its own CSRF token, checked on every POST. Sessions
end on logout, after :data:`IDLE_SECONDS` without a request, after :data:`MAX_AGE_SECONDS`
in any case, and when the process restarts (users log in again; nothing to leak on disk).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

COOKIE = "relayarr_session"
LOGIN_COOKIE = "relayarr_login"  # the login form's own CSRF token (double submit)
IDLE_SECONDS = 12 * 3600
MAX_AGE_SECONDS = 7 * 86400
CAPACITY = 1000


class Session:
    """One logged-in browser: its CSRF token, times, and a message for the next page."""

    __slots__ = ("created", "csrf", "flash", "last_seen")

    def __init__(self, now: float) -> None:
        self.csrf = secrets.token_urlsafe(32)
        self.created = now
        self.last_seen = now
        self.flash: str | None = None

    def __repr__(self) -> str:  # never the token
        return f"Session(created={self.created:.0f})"

    def csrf_ok(self, presented: str | None) -> bool:
        """True when ``presented`` is this session's CSRF token (constant time)."""
        if not presented:
            return False
        return hmac.compare_digest(presented.encode(), self.csrf.encode())

    def pop_flash(self) -> str | None:
        message, self.flash = self.flash, None
        return message


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


class SessionStore:
    """Live sessions by token digest; the oldest is dropped beyond ``capacity``."""

    def __init__(
        self,
        *,
        idle_seconds: float = IDLE_SECONDS,
        max_age_seconds: float = MAX_AGE_SECONDS,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._idle = idle_seconds
        self._max_age = max_age_seconds
        self._capacity = capacity
        self._clock = clock

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self) -> tuple[str, Session]:
        """A new session and the token for its cookie."""
        token = secrets.token_urlsafe(32)
        session = Session(self._clock())
        self._sessions[_digest(token)] = session
        while len(self._sessions) > self._capacity:
            self._sessions.popitem(last=False)
        return token, session

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token`` (its idle time restarts), or None."""
        if not token or len(token) > 100:
            return None
        key = _digest(token)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock()
        if now - session.last_seen > self._idle or now - session.created > self._max_age:
            del self._sessions[key]
            return None
        session.last_seen = now
        return session

    def drop(self, token: str | None) -> None:
        """End the session of ``token`` (nothing happens for an unknown one)."""
        if token:
            self._sessions.pop(_digest(token), None)


__all__ = [
    "COOKIE",
    "IDLE_SECONDS",
    "LOGIN_COOKIE",
    "MAX_AGE_SECONDS",
    "Session",
    "SessionStore",
]
