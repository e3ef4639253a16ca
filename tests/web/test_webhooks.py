"""The webhook routes in-process: what is stored, what is answered, what is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from relayarr.jobqueue import JobQuery, JobStatus, StorageUnavailable
from web.conftest import KEY, SMALL_LIMIT, Service, fixture_body, fixture_names

RADARR_EVENTS = [name for name in fixture_names("radarr") if name != "test"]
SONARR_EVENTS = [name for name in fixture_names("sonarr") if name != "test"]


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["fields"], list)
    assert "Traceback" not in response.text
    return dict(error)


@pytest.mark.parametrize(
    ("source", "name"),
    [("radarr", name) for name in RADARR_EVENTS] + [("sonarr", name) for name in SONARR_EVENTS],
)
async def test_every_event_is_stored_as_one_webhook_job(
    service: Service, source: str, name: str
) -> None:
    body = fixture_body(source, name)
    response = await service.client.post(f"/api/v1/webhooks/{source}", json=body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "queued"
    job = await service.queue.get_job(answer["job_id"])
    assert job.type == "webhook"
    assert job.priority == 1
    assert set(job.payload) == {"source", "instance", "received_at", "body"}
    assert job.payload["source"] == source
    assert job.payload["instance"] is None
    assert job.payload["body"] == body
    assert isinstance(job.payload["received_at"], str)
    assert job.payload["received_at"].endswith("Z")


@pytest.mark.parametrize("source", ["radarr", "sonarr"])
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_test_event_answers_200_and_stores_nothing(
    service: Service, source: str, method: str
) -> None:
    response = await service.client.request(
        method, f"/api/v1/webhooks/{source}", json=fixture_body(source, "test")
    )
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "test": True}
    assert await service.job_count() == 0


async def test_put_is_accepted_like_post(service: Service) -> None:
    response = await service.client.put(
        "/api/v1/webhooks/sonarr", json=fixture_body("sonarr", "download_import_complete")
    )
    assert response.status_code == 202
    assert await service.job_count() == 1


async def test_named_instance_is_recorded(service: Service) -> None:
    response = await service.client.post(
        "/api/v1/webhooks/radarr/4k", json=fixture_body("radarr", "download")
    )
    assert response.status_code == 202
    job = await service.queue.get_job(response.json()["job_id"])
    assert job.payload["instance"] == "4k"


@pytest.mark.parametrize("instance", ["UPPER", "-lead", "trail-", "a" * 33, "sp ace", "x.y"])
async def test_bad_instance_names_are_refused(service: Service, instance: str) -> None:
    response = await service.client.post(
        f"/api/v1/webhooks/radarr/{instance}", json=fixture_body("radarr", "download")
    )
    if response.status_code == 404:  # a path the router cannot even match (a dot, a slash)
        assert_error(response, 404, "not_found")
    else:
        error = assert_error(response, 422, "invalid_request")
        assert error["fields"][0]["loc"] == "path.instance"  # type: ignore[index]
    assert await service.job_count() == 0


async def test_unknown_source_is_refused(service: Service) -> None:
    response = await service.client.post("/api/v1/webhooks/lidarr", json={"eventType": "Grab"})
    error = assert_error(response, 422, "invalid_request")
    assert error["fields"][0]["loc"] == "path.source"  # type: ignore[index]
    assert await service.job_count() == 0


async def test_unknown_event_types_are_acknowledged_and_recorded(service: Service) -> None:
    body = {"eventType": "SomethingNew", "instanceName": "Radarr", "movie": {"id": 3}}
    response = await service.client.post("/api/v1/webhooks/radarr", json=body)
    assert response.status_code == 202
    job = await service.queue.get_job(response.json()["job_id"])
    assert job.payload["body"] == body


# -- authentication ------------------------------------------------------------------------


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


GOOD_CREDENTIALS = [
    pytest.param({"X-Api-Key": KEY}, "", id="header"),
    pytest.param({}, f"?apikey={KEY}", id="query"),
    pytest.param({"Authorization": basic("radarr", KEY)}, "", id="basic"),
    pytest.param({"Authorization": basic("", KEY)}, "", id="basic-no-username"),
    pytest.param({"Authorization": f"Bearer {KEY}"}, "", id="bearer"),
    pytest.param(
        {"X-Api-Key": "wrong-key-wrong-key", "Authorization": f"Bearer {KEY}"},
        "",
        id="one-of-several",
    ),
]
BAD_CREDENTIALS = [
    pytest.param({}, "", id="none"),
    pytest.param({"X-Api-Key": KEY[:-1]}, "", id="header-prefix"),
    pytest.param({"X-Api-Key": KEY + "x"}, "", id="header-longer"),
    pytest.param({}, "?apikey=", id="query-empty"),
    pytest.param({}, f"?APIKEY={KEY}", id="query-wrong-name"),
    pytest.param({"Authorization": basic(KEY, "nope")}, "", id="basic-key-as-username"),
    pytest.param({"Authorization": "Basic !!notbase64!!"}, "", id="basic-garbage"),
    pytest.param({"Authorization": f"Digest {KEY}"}, "", id="other-scheme"),
]


@pytest.mark.parametrize(("headers", "query"), GOOD_CREDENTIALS)
async def test_each_way_of_sending_the_key_is_accepted(
    service: Service, headers: dict[str, str], query: str
) -> None:
    response = await service.anonymous.post(
        f"/api/v1/webhooks/radarr{query}", json=fixture_body("radarr", "download"), headers=headers
    )
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(("headers", "query"), BAD_CREDENTIALS)
async def test_missing_or_wrong_key_is_401_and_stores_nothing(
    service: Service, headers: dict[str, str], query: str
) -> None:
    response = await service.anonymous.post(
        f"/api/v1/webhooks/radarr{query}", json=fixture_body("radarr", "download"), headers=headers
    )
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Basic")
    assert KEY not in response.text
    assert await service.job_count() == 0


async def test_auth_comes_before_the_body_is_judged(service: Service) -> None:
    response = await service.anonymous.post("/api/v1/webhooks/radarr", content=b"{not json")
    assert_error(response, 401, "unauthorized")


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b"{'eventType': 'Grab'}",
        b'{"eventType": NaN}',
        b'{"eventType": "Grab"} trailing',
        b'{"eventType": "\xff"}',
        b'{"eventType": "\\ud800"}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
async def test_malformed_json_is_400(service: Service, raw: bytes) -> None:
    response = await service.client.post("/api/v1/webhooks/radarr", content=raw)
    assert_error(response, 400, "malformed_json")
    assert await service.job_count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1, 2], "body"),
        ("Download", "body"),
        ({}, "eventType"),
        ({"eventType": 7}, "eventType"),
        ({"eventType": "Download", "movie": "Arrival"}, "movie"),
    ],
)
async def test_schema_invalid_payload_is_422_naming_the_field(
    service: Service, body: object, field: str
) -> None:
    response = await service.client.post("/api/v1/webhooks/radarr", content=json.dumps(body))
    error = assert_error(response, 422, "invalid_payload")
    locs = [item["loc"] for item in error["fields"]]  # type: ignore[attr-defined]
    assert field in locs
    assert await service.job_count() == 0


async def test_body_over_the_limit_is_413_by_content_length(service: Service) -> None:
    body = {"eventType": "Grab", "padding": "x" * SMALL_LIMIT}
    response = await service.client.post("/api/v1/webhooks/radarr", json=body)
    assert_error(response, 413, "body_too_large")
    assert await service.job_count() == 0


async def test_body_over_the_limit_is_413_while_streaming(service: Service) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"eventType": "Grab", "padding": "'
        for _ in range(SMALL_LIMIT // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    response = await service.client.post("/api/v1/webhooks/radarr", content=chunks())
    assert_error(response, 413, "body_too_large")
    assert await service.job_count() == 0


async def test_body_just_under_the_limit_is_accepted(service: Service) -> None:
    body = {"eventType": "Grab", "movie": {"id": 1, "title": "T", "folderPath": "/m"}}
    raw = json.dumps(body)
    padded = raw[:-1] + ', "padding": "' + "x" * (SMALL_LIMIT - len(raw) - 16) + '"}'
    assert len(padded) <= SMALL_LIMIT
    response = await service.client.post("/api/v1/webhooks/radarr", content=padded)
    assert response.status_code == 202, response.text


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
async def test_other_methods_are_405(service: Service, method: str) -> None:
    response = await service.client.request(method, "/api/v1/webhooks/radarr")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]
    assert await service.job_count() == 0


async def test_storage_failure_is_503_and_says_retry(
    service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> object:
        raise StorageUnavailable("disk I/O error", where="/data/queue.db")

    monkeypatch.setattr(service.storage, "add", broken)
    response = await service.client.post(
        "/api/v1/webhooks/radarr", json=fixture_body("radarr", "download")
    )
    error = assert_error(response, 503, "storage_unavailable")
    assert "retry" in str(error["message"])
    assert response.headers["retry-after"]
    assert "/data/queue.db" not in response.text  # told to the log, not to the caller
    assert any("/data/queue.db" in record.getMessage() for record in caplog.records)


async def test_accepted_and_refused_webhooks_are_counted(service: Service) -> None:
    await service.client.post("/api/v1/webhooks/radarr", json=fixture_body("radarr", "download"))
    await service.client.post("/api/v1/webhooks/sonarr", json=fixture_body("sonarr", "test"))
    await service.anonymous.post("/api/v1/webhooks/sonarr", json={})
    await service.client.post("/api/v1/webhooks/radarr", content=b"{")
    text = (await service.client.get("/metrics")).text
    assert 'relayarr_webhook_requests_total{outcome="accepted",source="radarr"} 1.0' in text
    assert 'relayarr_webhook_requests_total{outcome="test",source="sonarr"} 1.0' in text
    assert 'relayarr_webhook_requests_total{outcome="unauthorized",source="sonarr"} 1.0' in text
    assert 'relayarr_webhook_requests_total{outcome="malformed_json",source="radarr"} 1.0' in text
    assert 'relayarr_webhook_ack_seconds_count{source="radarr"} 1.0' in text


async def test_the_key_never_reaches_the_log(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    await service.anonymous.post(
        f"/api/v1/webhooks/radarr?apikey={KEY}", json=fixture_body("radarr", "download")
    )
    await service.anonymous.post(f"/api/v1/webhooks/radarr?apikey={KEY}x", json={})
    await service.client.get("/api/v1/jobs")
    ours = [record for record in caplog.records if record.name.startswith("relayarr")]
    assert ours  # the access log did run
    for record in ours:  # (httpx, the test's client, logs the URLs it requests)
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.__dict__)
    jobs = await service.queue.list_jobs(JobQuery(statuses=[JobStatus.PENDING]))
    assert len(jobs.jobs) == 1


# -- the intake (served ahead of FastAPI) --------------------------------------------------


async def test_each_webhook_logs_one_line_with_its_context(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    response = await service.client.post(
        "/api/v1/webhooks/radarr/4k", json=fixture_body("radarr", "download")
    )
    assert response.status_code == 202
    lines = [record for record in caplog.records if record.name.startswith("relayarr")]
    assert len(lines) == 1
    context = lines[0].__dict__
    assert context["status"] == 202
    assert context["route"] == "/api/v1/webhooks/{source}/{instance}"
    assert context["job_id"] == response.json()["job_id"]
    assert context["source"] == "radarr"
    assert context["event"] == "Download"
    assert context["instance"] == "4k"
    assert context["title"] == "Arrival"


async def test_a_refused_webhook_logs_its_error_code(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    await service.client.post("/api/v1/webhooks/sonarr", content=b"{")
    answered = [record for record in caplog.records if record.getMessage() == "request answered"]
    assert [(r.__dict__["status"], r.__dict__["error"]) for r in answered] == [
        (400, "malformed_json")
    ]


async def test_a_trailing_slash_is_left_to_the_router(service: Service) -> None:
    response = await service.client.post(
        "/api/v1/webhooks/radarr/", json=fixture_body("radarr", "download")
    )
    assert response.status_code in (307, 404)
    assert await service.job_count() == 0


async def test_a_body_in_many_chunks_is_stored_whole(service: Service) -> None:
    raw = json.dumps(fixture_body("radarr", "download")).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 100):
            yield raw[start : start + 100]

    response = await service.client.post("/api/v1/webhooks/radarr", content=chunks())
    assert response.status_code == 202, response.text
    job = await service.queue.get_job(response.json()["job_id"])
    assert job.payload["body"] == json.loads(raw)


async def test_nulls_are_read_as_absent_but_stored_as_sent(service: Service) -> None:
    body = fixture_body("radarr", "download")
    body["isUpgrade"] = None
    body["movie"]["tmdbId"] = None  # type: ignore[index]
    response = await service.client.post("/api/v1/webhooks/radarr", json=body)
    assert response.status_code == 202, response.text
    job = await service.queue.get_job(response.json()["job_id"])
    assert job.payload["body"] == body
