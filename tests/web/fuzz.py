"""Hypothesis strategies for random requests, and the invariants every answer must keep.

Shared by the in-process fuzz tests and the smaller run against a real server process.
"""

from __future__ import annotations

import base64
import json
import string
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

from relayarr.web.dashboard.headers import is_page_path
from web.conftest import KEY, fixture_body, fixture_names

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
WEBHOOK_PATHS = [
    "/api/v1/webhooks/radarr",
    "/api/v1/webhooks/sonarr",
    "/api/v1/webhooks/radarr/4k",
    "/api/v1/webhooks/sonarr/anime-2",
    "/api/v1/webhooks/lidarr",
    "/api/v1/webhooks/radarr/Not_Valid",
    "/api/v1/webhooks/radarr/a/b",
    "/api/v1/webhooks/",
]
API_PATHS = [
    "/api/v1/jobs",
    "/api/v1/jobs/1",
    "/api/v1/jobs/0",
    "/api/v1/jobs/99999999999999999999999",
    "/api/v1/jobs/-1",
    "/api/v1/jobs/abc",
    "/api/v1/jobs/1/retry",
    "/api/v1/jobs/1/cancel",
    "/api/v1/jobs/retry",
    "/api/v1/stats",
    "/api/v1/breakers",
    "/api/v1/health",
    "/metrics",
    "/",
    # dashboard pages and forms: without a session they redirect to the login page or
    # refuse (403), and their errors are pages, not JSON
    "/history",
    "/history/retry",
    "/jobs/1",
    "/jobs/1/retry",
    "/login",
    "/logout",
]
FIXTURES = [("radarr", name) for name in fixture_names("radarr")] + [
    ("sonarr", name) for name in fixture_names("sonarr")
]
MANAGED_HEADERS = {"content-length", "transfer-encoding", "host", "connection", "upgrade"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=15,
)
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
).map(str.strip)
header_names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z").filter(
    lambda name: name.lower() not in MANAGED_HEADERS
)


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    source, name = draw(st.sampled_from(FIXTURES))
    body: dict[str, Any] = fixture_body(source, name)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["replace", "delete", "event", "nested"]))
        keys = sorted(body)
        if action == "replace" and keys:
            body[draw(st.sampled_from(keys))] = draw(json_values)
        elif action == "delete" and keys:
            body.pop(draw(st.sampled_from(keys)))
        elif action == "event":
            body["eventType"] = draw(
                st.sampled_from(["Download", "Test", "Grab", "Rename", ""]) | json_values
            )
        else:
            inner = [k for k in keys if isinstance(body[k], dict)]
            if inner:
                target = body[draw(st.sampled_from(inner))]
                if target:
                    target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
    return json.dumps(body).encode()


bodies = st.one_of(
    mutated_fixture(),
    mutated_fixture(),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.just(b""),
)


def _basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"u:{password}".encode()).decode()


valid_credentials = st.sampled_from(
    [{"X-Api-Key": KEY}, {"Authorization": _basic(KEY)}, {"Authorization": f"Bearer {KEY}"}]
)
credentials = st.sampled_from(
    [
        {},
        {"X-Api-Key": KEY},
        {"Authorization": _basic(KEY)},
        {"Authorization": f"Bearer {KEY}"},
        {"X-Api-Key": "wrong-wrong-wrong-wrong"},
        {"Authorization": _basic("wrong")},
        {"Authorization": "Basic ###"},
    ]
)


@dataclass
class FuzzRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    @property
    def is_webhook(self) -> bool:
        return self.path.startswith("/api/v1/webhooks/")


@st.composite
def requests(draw: st.DrawFn, paths: list[str]) -> FuzzRequest:
    """Mostly well-aimed requests (a known path, POST or PUT, a valid key) with random
    bodies, headers and query strings; now and then anything at all."""
    if draw(st.integers(0, 9)) == 0:
        path = "/api/v1/" + quote(draw(st.text(max_size=30)), safe="/")
    else:
        path = draw(st.sampled_from(paths))
    if draw(st.integers(0, 3)) == 0:
        method = draw(st.sampled_from(METHODS))
    else:
        method = draw(
            st.sampled_from(["POST", "PUT", "GET"] if "/jobs" in path else ["POST", "PUT"])
        )
    headers = dict(draw(valid_credentials if draw(st.integers(0, 3)) else credentials))
    headers.update(draw(st.dictionaries(header_names, header_text, max_size=3)))
    if draw(st.booleans()):
        headers["Content-Type"] = draw(
            st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"])
            | header_text
        )
    params = draw(
        st.dictionaries(
            st.sampled_from(["apikey", "limit", "status", "type", "text", "cursor", "since", "x"]),
            st.text(alphabet=string.printable, max_size=20),
            max_size=3,
        )
    )
    if draw(st.integers(0, 4)) == 0:
        params["apikey"] = KEY
    return FuzzRequest(
        method=method, path=path, headers=headers, params=params, content=draw(bodies)
    )


def check_answer(request: FuzzRequest, response: httpx.Response, added: int) -> None:
    """The invariants: never a 5xx, every error in the JSON shape, jobs only from 201/202."""
    assert response.status_code < 500, (request, response.status_code, response.text)
    if is_page_path(request.path) and response.status_code >= 300:
        # The dashboard's errors are pages for people (or a redirect to its login page).
        if response.status_code < 400:
            assert response.headers["location"].startswith("/login"), response.headers
        elif request.method != "HEAD":
            assert response.headers["content-type"].startswith("text/html"), response.text
            assert "Traceback" not in response.text
    elif response.status_code >= 400 and request.method != "HEAD":
        assert response.headers["content-type"] == "application/json", response.text
        error = response.json()["error"]
        assert isinstance(error["code"], str)
        assert isinstance(error["message"], str)
        assert isinstance(error["fields"], list)
        assert "Traceback" not in response.text
    if response.status_code in (201, 202):
        assert added in (0, 1), (request, added)  # 201 with an existing unique key adds none
    else:
        assert added == 0, (request, response.status_code, response.text)
    if response.status_code == 202:
        assert request.is_webhook
        assert request.method in ("POST", "PUT")
