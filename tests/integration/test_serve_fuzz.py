"""The web fuzzing of tests/web/test_fuzz.py, smaller, against a real ``relayarr serve``
process over a real socket: what uvicorn's HTTP parser and the network path add."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from serve_process import ServeProcess
from web.conftest import KEY
from web.fuzz import API_PATHS, WEBHOOK_PATHS, FuzzRequest, check_answer, requests

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with ServeProcess(tmp_path_factory.mktemp("fuzz"), api_key=KEY) as running:
        yield running
    assert running.returncode == 0, running.stderr
    assert "Traceback" not in running.stderr, running.stderr


@pytest.fixture(scope="module")
def client(server: ServeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        yield c


def count(client: httpx.Client) -> int:
    totals = client.get("/api/v1/stats", headers={"X-Api-Key": KEY}).json()["totals"]
    return sum(int(value) for value in totals.values())


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=requests(WEBHOOK_PATHS + API_PATHS))
def test_real_server_never_fails_and_stores_only_accepted(
    client: httpx.Client, request: FuzzRequest
) -> None:
    before = count(client)
    response = client.request(
        request.method,
        request.path,
        headers=request.headers,
        params=request.params,
        content=request.content,
    )
    check_answer(request, response, count(client) - before)
