"""Dashboard sessions: tokens, expiry, capacity, CSRF, and where a login may lead."""

from __future__ import annotations

from relayarr.web.dashboard.headers import content_security_policy, is_page_path
from relayarr.web.dashboard.login import safe_next
from relayarr.web.dashboard.session import SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_found_by_its_token_only() -> None:
    store = SessionStore()
    token, session = store.create()
    assert store.get(token) is session
    assert store.get(token + "x") is None
    assert store.get(None) is None
    assert store.get("") is None
    assert token not in repr(session)
    assert session.csrf not in repr(session)


def test_sessions_end_when_idle_too_long_or_too_old() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=10, max_age_seconds=25, clock=clock)
    token, _ = store.create()
    clock.now += 9
    assert store.get(token) is not None  # seen: the idle time starts again
    clock.now += 9
    assert store.get(token) is not None
    clock.now += 9  # 27 s old, though seen 9 s ago
    assert store.get(token) is None
    other, _ = store.create()
    clock.now += 11
    assert store.get(other) is None
    assert len(store) == 0


def test_logout_and_capacity_drop_sessions() -> None:
    store = SessionStore(capacity=2)
    first, _ = store.create()
    second, _ = store.create()
    third, _ = store.create()
    assert store.get(first) is None  # the oldest made room
    store.drop(second)
    assert store.get(second) is None
    assert store.get(third) is not None


def test_the_csrf_token_must_match_exactly() -> None:
    _, session = SessionStore().create()
    assert session.csrf_ok(session.csrf)
    assert not session.csrf_ok(None)
    assert not session.csrf_ok("")
    assert not session.csrf_ok(session.csrf[:-1])
    assert SessionStore().create()[1].csrf != session.csrf


def test_flash_messages_show_once() -> None:
    _, session = SessionStore().create()
    session.flash = "done"
    assert session.pop_flash() == "done"
    assert session.pop_flash() is None


def test_after_login_only_local_paths() -> None:
    assert safe_next("/history?status=failed") == "/history?status=failed"
    for hostile in ("//evil.example/", "/\\evil.example", "https://evil.example", "", None,
                    "/x\r\nSet-Cookie: a=b", "history"):  # fmt: skip
        assert safe_next(hostile) == "/"


def test_the_policy_names_the_socket_only_for_a_sane_host() -> None:
    assert "connect-src 'self' ws://h:7878 wss://h:7878;" in content_security_policy("h:7878")
    assert "connect-src 'self';" in content_security_policy("evil; script-src *")
    assert "script-src 'self';" in content_security_policy(None)
    assert is_page_path("/")
    assert is_page_path("/history")
    assert not is_page_path("/api/v1/jobs")
    assert not is_page_path("/metrics")
