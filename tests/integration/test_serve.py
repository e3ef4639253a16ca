"""``relayarr serve`` as a real process over real sockets: the HTTP contract end to end.

Webhooks shaped like Radarr's and Sonarr's come back 202 and show in the API, on the
WebSocket and in /metrics; every way of sending the key works; bad input gets its JSON
error and stores nothing; the first run prints its key once; SIGTERM lets an in-flight
request finish and exits cleanly. Deadlines only stop a broken run from hanging.
"""

from __future__ import annotations

import asyncio
import base64
import json
import select
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from serve_process import ServeProcess, relayarr_command

pytestmark = pytest.mark.slow

KEY = "integration-key-0123456789"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"
DEADLINE = 30.0


def body(source: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / source / f"{name}.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with ServeProcess(tmp_path_factory.mktemp("serve"), api_key=KEY) as running:
        yield running
    assert running.returncode == 0, running.stderr


@pytest.fixture
def client(server: ServeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"X-Api-Key": KEY}, timeout=10) as c:
        yield c


def total_jobs(client: httpx.Client) -> int:
    totals = client.get("/api/v1/stats").json()["totals"]
    return sum(int(count) for count in totals.values())


def wait_for(predicate: Any, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# -- the happy path ------------------------------------------------------------------------


def test_radarr_and_sonarr_webhooks_are_stored_and_run(client: httpx.Client) -> None:
    radarr = client.post("/api/v1/webhooks/radarr", json=body("radarr", "download"))
    sonarr = client.put(
        "/api/v1/webhooks/sonarr/anime", json=body("sonarr", "download_episode_file")
    )
    assert radarr.status_code == 202, radarr.text
    assert sonarr.status_code == 202, sonarr.text
    ids = {radarr.json()["job_id"], sonarr.json()["job_id"]}
    listed = client.get("/api/v1/jobs", params={"type": "webhook", "limit": 500}).json()["jobs"]
    by_id = {job["id"]: job for job in listed if job["id"] in ids}
    assert set(by_id) == ids
    assert by_id[sonarr.json()["job_id"]]["payload"]["instance"] == "anime"

    def completed() -> bool:
        return all(
            client.get(f"/api/v1/jobs/{i}").json()["job"]["status"] == "completed" for i in ids
        )

    wait_for(completed, "the webhook jobs to complete")
    metrics = client.get("/metrics").text
    assert 'relayarr_webhook_requests_total{outcome="accepted",source="radarr"}' in metrics
    assert 'relayarr_webhook_requests_total{outcome="accepted",source="sonarr"}' in metrics
    assert 'relayarr_queue_jobs{status="completed",type="webhook"}' in metrics
    # Outcomes are counted from the shared event log, which trails storage a little.
    finished = 'relayarr_jobs_finished_total{outcome="completed",type="webhook"}'
    wait_for(lambda: finished in client.get("/metrics").text, "the completions to be counted")


def test_test_events_answer_200_and_store_nothing(client: httpx.Client) -> None:
    before = total_jobs(client)
    for source in ("radarr", "sonarr"):
        response = client.post(f"/api/v1/webhooks/{source}", json=body(source, "test"))
        assert response.json() == {"status": "ok", "test": True}
    assert total_jobs(client) == before


async def test_websocket_streams_events_and_resumes(server: ServeProcess) -> None:
    ws_url = f"ws://127.0.0.1:{server.port}/api/v1/events?apikey={KEY}"
    async with httpx.AsyncClient(base_url=server.base_url, headers={"X-Api-Key": KEY}) as http:
        async with connect(ws_url, open_timeout=DEADLINE) as ws:
            hello = json.loads(await ws.recv())
            assert hello["kind"] == "hello"
            posted = await http.post("/api/v1/webhooks/radarr", json=body("radarr", "download"))
            job_id = posted.json()["job_id"]
            seen: list[dict[str, Any]] = []
            async with asyncio.timeout(DEADLINE):
                while not any(e["job_id"] == job_id and e["kind"] == "completed" for e in seen):
                    seen.append(json.loads(await ws.recv()))
        kinds = [e["kind"] for e in seen if e["job_id"] == job_id]
        assert kinds[0] == "added"
        assert "started" in kinds
        assert set(seen[0]) == {"id", "kind", "at", "job_id", "job_type", "data"}
        # Reconnect from the first event seen: everything after it comes again, in order.
        first_id = seen[0]["id"]
        async with connect(f"{ws_url}&after={first_id}", open_timeout=DEADLINE) as ws:
            assert json.loads(await ws.recv())["kind"] == "hello"
            replay = [json.loads(await ws.recv()) for _ in seen[1:]]
        assert [e["id"] for e in replay] == [e["id"] for e in seen[1:]]


async def test_websocket_refuses_a_wrong_key(server: ServeProcess) -> None:
    async with connect(
        f"ws://127.0.0.1:{server.port}/api/v1/events?apikey=wrong", open_timeout=DEADLINE
    ) as ws:
        with pytest.raises(Exception, match="4401"):
            await ws.recv()


# -- authentication over the wire ----------------------------------------------------------


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"radarr:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"X-Api-Key": KEY}, ""),
        ({}, f"?apikey={KEY}"),
        ({"Authorization": basic(KEY)}, ""),
        ({"Authorization": f"Bearer {KEY}"}, ""),
    ],
    ids=["header", "query", "basic", "bearer"],
)
def test_every_auth_mode(server: ServeProcess, headers: dict[str, str], query: str) -> None:
    response = httpx.post(
        server.url(f"/api/v1/webhooks/radarr{query}"), json=body("radarr", "grab"), headers=headers
    )
    assert response.status_code == 202, response.text


# -- bad input over the wire ---------------------------------------------------------------


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
        head, found, rest = data.partition(b"\r\n\r\n")
        if not found:
            continue
        lengths = [
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ]
        if lengths and len(rest) >= lengths[0]:
            break
    return int(data.split(b" ", 2)[1]), data.partition(b"\r\n\r\n")[2]


def raw_request(server: ServeProcess, head: bytes, payload: bytes = b"") -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(head + payload)
        return read_response(sock)


@pytest.mark.parametrize(
    ("method", "path", "headers", "content", "status", "code"),
    [
        ("POST", "/api/v1/webhooks/radarr", {}, b'{"eventType":"Grab"}', 401, "unauthorized"),
        ("POST", "/api/v1/webhooks/radarr", {"X-Api-Key": "nope"}, b"{}", 401, "unauthorized"),
        ("POST", "/api/v1/webhooks/radarr", {"X-Api-Key": KEY}, b"{oops", 400, "malformed_json"),
        (
            "POST",
            "/api/v1/webhooks/sonarr",
            {"X-Api-Key": KEY},
            b'{"series": 1}',
            422,
            "invalid_payload",
        ),
        ("GET", "/api/v1/webhooks/radarr", {"X-Api-Key": KEY}, b"", 405, "method_not_allowed"),
        ("DELETE", "/api/v1/webhooks/sonarr", {"X-Api-Key": KEY}, b"", 405, "method_not_allowed"),
        (
            "POST",
            "/api/v1/webhooks/radarr/Bad_Name",
            {"X-Api-Key": KEY},
            b"{}",
            422,
            "invalid_request",
        ),
    ],
)
def test_bad_requests_get_json_errors_and_store_nothing(
    client: httpx.Client,
    method: str,
    path: str,
    headers: dict[str, str],
    content: bytes,
    status: int,
    code: str,
) -> None:
    before = total_jobs(client)
    response = httpx.request(method, client.base_url.join(path), headers=headers, content=content)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert total_jobs(client) == before


def test_oversized_bodies_get_413_and_store_nothing(
    server: ServeProcess, client: httpx.Client
) -> None:
    before = total_jobs(client)
    auth = b"Host: t\r\nX-Api-Key: " + KEY.encode() + b"\r\n"
    # Content-Length over the limit: refused before a byte of the body is sent.
    declared = b"POST /api/v1/webhooks/radarr HTTP/1.1\r\n" + auth
    declared += b"Content-Length: " + str(2 * 1024 * 1024).encode() + b"\r\n\r\n"
    status, answer = raw_request(server, declared)
    assert status == 413
    assert json.loads(answer)["error"]["code"] == "body_too_large"
    # Chunked: refused as soon as the bytes received pass the limit. Stop sending once the
    # answer is there (writing on would race the server closing the connection).
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(b"POST /api/v1/webhooks/radarr HTTP/1.1\r\n" + auth)
        sock.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
        part = b"x" * 65536
        for _ in range(64):  # up to 4 MiB
            sock.sendall(hex(len(part))[2:].encode() + b"\r\n" + part + b"\r\n")
            if select.select([sock], [], [], 0.01)[0]:
                break
        status, answer = read_response(sock)
    assert status == 413
    assert json.loads(answer)["error"]["code"] == "body_too_large"
    assert total_jobs(client) == before


def test_health_needs_no_key(server: ServeProcess) -> None:
    health = httpx.get(server.url("/api/v1/health")).json()
    assert health["status"] == "ok"
    assert health["workers"] is True


# -- life of the process -------------------------------------------------------------------


def test_first_run_generates_the_key_and_prints_it_once(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as first:
        key_file = tmp_path / "data" / "api_key"
        key = key_file.read_text().strip()
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert first.stdout.count(key) == 1
        assert "X-Api-Key" in first.stdout
        assert key not in first.stderr
        ok = httpx.post(
            first.url("/api/v1/webhooks/radarr"),
            json=body("radarr", "grab"),
            headers={"X-Api-Key": key},
        )
        assert ok.status_code == 202
    assert first.returncode == 0
    with ServeProcess(tmp_path) as second:
        assert key not in second.stdout
        assert key not in second.stderr
        status = httpx.get(second.url("/api/v1/stats"), headers={"X-Api-Key": key}).status_code
        assert status == 200
    assert second.returncode == 0


def test_sigterm_finishes_the_request_in_flight_then_exits_cleanly(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path, api_key=KEY, args=("--no-workers",)).start()
    payload = json.dumps(body("radarr", "download")).encode()
    head = (
        b"POST /api/v1/webhooks/radarr HTTP/1.1\r\nHost: t\r\nX-Api-Key: "
        + KEY.encode()
        + b"\r\nContent-Length: "
        + str(len(payload)).encode()
        + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(head + payload[:100])
        time.sleep(0.3)  # the request is in flight: headers and part of the body are in
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        sock.sendall(payload[100:])
        status, answer = read_response(sock)
    assert status == 202, answer
    job_id = json.loads(answer)["job_id"]
    assert server.wait() == 0, server.stderr
    assert "shutdown complete" in server.stderr
    assert "Traceback" not in server.stderr
    with sqlite3.connect(tmp_path / "data" / "queue.db") as db:
        (count,) = db.execute("SELECT count(*) FROM job_queue WHERE id = ?", (job_id,)).fetchone()
    assert count == 1
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url("/api/v1/health"), timeout=1)


def test_no_workers_leaves_jobs_pending(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, api_key=KEY, args=("--no-workers",)) as server:
        assert httpx.get(server.url("/api/v1/health")).json()["workers"] is False
        job_id = httpx.post(
            server.url("/api/v1/webhooks/sonarr"),
            json=body("sonarr", "series_add"),
            headers={"X-Api-Key": KEY},
        ).json()["job_id"]
        time.sleep(0.5)
        job = httpx.get(server.url(f"/api/v1/jobs/{job_id}"), headers={"X-Api-Key": KEY}).json()
        assert job["job"]["status"] == "pending"


def test_a_port_in_use_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ServeProcess(tmp_path, api_key=KEY, port=port)
        with pytest.raises(AssertionError, match="exited at start"):
            server.start()
    assert server.wait() == 1
    lines = server.stderr.strip().splitlines()
    assert lines[-1].startswith("error: cannot listen on 127.0.0.1:"), server.stderr
    assert "Traceback" not in server.stderr


async def test_a_web_only_node_shows_what_a_separate_worker_does(tmp_path: Path) -> None:
    """serve --no-workers and `relayarr worker` on one SQLite file: the worker's events reach
    the web node's WebSocket and metrics through the storage's shared event log."""
    with ServeProcess(tmp_path, api_key=KEY, args=("--no-workers",)) as server:
        worker_log = (tmp_path / "worker.err").open("wb")
        worker = subprocess.Popen(  # noqa: ASYNC220 - starting it blocks for microseconds
            [*relayarr_command(), "worker"], cwd=tmp_path, env=server.env, stderr=worker_log
        )
        try:
            ws_url = f"ws://127.0.0.1:{server.port}/api/v1/events?apikey={KEY}"
            async with connect(ws_url, open_timeout=DEADLINE) as ws:
                assert json.loads(await ws.recv())["kind"] == "hello"
                async with httpx.AsyncClient(headers={"X-Api-Key": KEY}) as http:
                    posted = await http.post(
                        server.url("/api/v1/webhooks/radarr"), json=body("radarr", "download")
                    )
                job_id = posted.json()["job_id"]
                kinds: list[str] = []
                async with asyncio.timeout(DEADLINE):
                    while "completed" not in kinds:
                        event = json.loads(await ws.recv())
                        if event["job_id"] == job_id:
                            kinds.append(event["kind"])
            assert kinds == ["added", "started", "completed"]
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=DEADLINE) == 0
            worker_log.close()
