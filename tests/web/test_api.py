"""The JSON API in-process: listing and filters, detail, enqueue, retry, cancel, stats,
breakers, health, metrics and the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relayarr.jobqueue import BreakerPhase, BreakerState
from web.conftest import Service
from web.test_webhooks import assert_error


async def add(service: Service, job_type: str = "webhook", **payload: object) -> int:
    # "webhook" is declared by the app; other types need strict_types off for these tests.
    service.queue.declare(job_type)
    job = await service.queue.add_job(job_type, payload)
    return int(job.id)


async def test_every_api_route_needs_the_key(service: Service) -> None:
    for method, path in [
        ("GET", "/api/v1/jobs"),
        ("GET", "/api/v1/jobs/1"),
        ("POST", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs/1/retry"),
        ("POST", "/api/v1/jobs/1/cancel"),
        ("POST", "/api/v1/jobs/retry"),
        ("GET", "/api/v1/stats"),
        ("GET", "/api/v1/breakers"),
        ("GET", "/metrics"),
    ]:
        response = await service.anonymous.request(method, path)
        assert_error(response, 401, "unauthorized")
        assert "www-authenticate" not in response.headers  # no browser login prompt


async def test_health_needs_no_key(service: Service) -> None:
    response = await service.anonymous.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["engine"] == "sqlite"


async def test_health_is_503_when_storage_fails(service: Service) -> None:
    await service.storage.aclose()  # every read of this handle now fails
    response = await service.anonymous.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert service.storage.where not in response.text


async def test_listing_pages_newest_first(service: Service) -> None:
    ids = [await add(service, n=n) for n in range(5)]
    first = (await service.client.get("/api/v1/jobs", params={"limit": 2})).json()
    assert [job["id"] for job in first["jobs"]] == ids[:-3:-1]
    second = (
        await service.client.get(
            "/api/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [job["id"] for job in second["jobs"]] == [ids[2], ids[1]]


async def test_listing_filters_by_status_and_type(service: Service) -> None:
    keep = await add(service, "scan-movie", path="/m")
    await add(service, "webhook")
    cancelled = await add(service, "scan-movie", path="/n")
    await service.queue.cancel_job(cancelled)
    page = (
        await service.client.get("/api/v1/jobs", params={"type": "scan-movie", "status": "pending"})
    ).json()
    assert [job["id"] for job in page["jobs"]] == [keep]
    both = (
        await service.client.get(
            "/api/v1/jobs", params=[("status", "pending"), ("status", "cancelled")]
        )
    ).json()
    assert len(both["jobs"]) == 3


async def test_text_filter_matches_type_payload_and_error(service: Service) -> None:
    arrival = await add(service, path="/movies/Arrival (2016)")
    await add(service, path="/movies/Dune (2021)")
    page = (await service.client.get("/api/v1/jobs", params={"text": "arrival"})).json()
    assert [job["id"] for job in page["jobs"]] == [arrival]
    assert page["next_cursor"] is None


async def test_text_filter_pages_with_a_cursor(service: Service) -> None:
    ids = [await add(service, title=f"match {n}") for n in range(3)]
    await add(service, title="other")
    page = (await service.client.get("/api/v1/jobs", params={"text": "match", "limit": 2})).json()
    assert [job["id"] for job in page["jobs"]] == [ids[2], ids[1]]
    rest = (
        await service.client.get(
            "/api/v1/jobs", params={"text": "match", "limit": 2, "cursor": page["next_cursor"]}
        )
    ).json()
    assert [job["id"] for job in rest["jobs"]] == [ids[0]]
    assert rest["next_cursor"] is None


async def test_time_range_filter(service: Service) -> None:
    job_id = await add(service)
    now = datetime.now(UTC)
    inside = {
        "since": (now - timedelta(minutes=1)).isoformat(),
        "until": (now + timedelta(minutes=1)).isoformat(),
    }
    after = {"since": (now + timedelta(minutes=1)).isoformat()}
    assert [
        j["id"] for j in (await service.client.get("/api/v1/jobs", params=inside)).json()["jobs"]
    ] == [job_id]
    assert (await service.client.get("/api/v1/jobs", params=after)).json()["jobs"] == []
    naive = await service.client.get("/api/v1/jobs", params={"since": "2025-01-01T00:00:00"})
    assert_error(naive, 422, "invalid_request")


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 10_000}, {"status": "bogus"}, {"cursor": -1}, {"since": "yesterday"}],
)
async def test_bad_listing_parameters_are_422(
    service: Service, params: dict[str, str | int]
) -> None:
    assert_error(await service.client.get("/api/v1/jobs", params=params), 422, "invalid_request")


async def test_job_detail_with_parent_and_children(service: Service) -> None:
    service.queue.declare("scan-movie")
    parent = await service.queue.add_job("webhook", {"a": 1})
    child = await service.queue.add_job("scan-movie", {"b": 2}, parent_id=parent.id)
    detail = (await service.client.get(f"/api/v1/jobs/{parent.id}")).json()
    assert detail["job"]["id"] == parent.id
    assert detail["job"]["attempts"] == 0
    assert detail["job"]["last_error"] is None
    assert [c["id"] for c in detail["children"]] == [child.id]
    assert detail["more_children"] is False
    up = (await service.client.get(f"/api/v1/jobs/{child.id}")).json()
    assert up["parent"]["id"] == parent.id
    assert "lease_token" not in up["job"]


async def test_unknown_job_is_404(service: Service) -> None:
    assert_error(await service.client.get("/api/v1/jobs/999"), 404, "job_not_found")
    assert_error(await service.client.post("/api/v1/jobs/999/retry"), 404, "job_not_found")
    assert_error(await service.client.post("/api/v1/jobs/999/cancel"), 404, "job_not_found")
    assert_error(await service.client.get("/api/v1/jobs/abc"), 422, "invalid_request")


async def test_enqueue_cancel_and_retry(service: Service) -> None:
    created = await service.client.post(
        "/api/v1/jobs", json={"type": "webhook", "payload": {"x": 1}, "priority": 2}
    )
    assert created.status_code == 201, created.text
    job = created.json()["job"]
    assert created.json()["created"] is True
    assert (job["type"], job["priority"], job["status"]) == ("webhook", 2, "pending")
    cancelled = await service.client.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert_error(
        await service.client.post(f"/api/v1/jobs/{job['id']}/cancel"), 409, "invalid_transition"
    )
    retried = await service.client.post(f"/api/v1/jobs/{job['id']}/retry")
    assert retried.json()["status"] == "pending"
    assert_error(
        await service.client.post(f"/api/v1/jobs/{job['id']}/retry"), 409, "invalid_transition"
    )


async def test_enqueue_with_a_held_unique_key_returns_the_existing_job(service: Service) -> None:
    body = {"type": "webhook", "unique_key": "folder:/m"}
    first = (await service.client.post("/api/v1/jobs", json=body)).json()
    second = (await service.client.post("/api/v1/jobs", json=body)).json()
    assert second["created"] is False
    assert second["job"]["id"] == first["job"]["id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "no-such-type"}, 422, "invalid_job"),
        ({"type": "webhook", "priority": 0}, 422, "invalid_request"),
        ({"type": "webhook", "payload": [1]}, 422, "invalid_request"),
        ({"type": "webhook", "surprise": 1}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
async def test_bad_enqueue_requests(
    service: Service, body: dict[str, object], status: int, code: str
) -> None:
    assert_error(await service.client.post("/api/v1/jobs", json=body), status, code)
    assert await service.job_count() == 0


async def test_enqueue_with_malformed_json_is_400(service: Service) -> None:
    response = await service.client.post(
        "/api/v1/jobs", content=b"{", headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")


async def test_bulk_retry_reports_each_job(service: Service) -> None:
    a = await add(service)
    b = await add(service)
    await service.queue.cancel_job(a)
    response = await service.client.post("/api/v1/jobs/retry", json={"ids": [a, b, 999, a]})
    result = response.json()
    assert [job["id"] for job in result["retried"]] == [a]
    assert {(e["id"], e["code"]) for e in result["errors"]} == {
        (b, "invalid_transition"),
        (999, "job_not_found"),
    }
    assert_error(
        await service.client.post("/api/v1/jobs/retry", json={"ids": []}), 422, "invalid_request"
    )


async def test_stats_and_breakers(service: Service) -> None:
    await add(service)
    stats = (await service.client.get("/api/v1/stats")).json()
    assert stats["by_type"]["webhook"]["pending"] == 1
    assert stats["totals"]["pending"] == 1
    assert (await service.client.get("/api/v1/breakers")).json() == []

    def trip(state: BreakerState | None) -> BreakerState:
        return BreakerState(
            name="notify-players",
            phase=BreakerPhase.OPEN,
            failures=5,
            trips=1,
            opened_at=1.0,
            reopen_at=2.0,
            updated_at=1.0,
        )

    await service.storage.update_breaker("notify-players", trip)
    breakers = (await service.client.get("/api/v1/breakers")).json()
    assert breakers[0]["name"] == "notify-players"
    assert breakers[0]["phase"] == "open"
    metrics = (await service.client.get("/metrics")).text
    assert 'relayarr_breaker_state{name="notify-players",phase="open"} 1.0' in metrics
    assert 'relayarr_queue_jobs{status="pending",type="webhook"} 1.0' in metrics


async def test_metrics_accepts_the_key_in_the_query(service: Service) -> None:
    from web.conftest import KEY

    response = await service.anonymous.get("/metrics", params={"apikey": KEY})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


async def test_openapi_documents_the_api(service: Service) -> None:
    doc = (await service.anonymous.get("/api/v1/openapi.json")).json()
    paths = doc["paths"]
    assert {"post", "put"} <= set(paths["/api/v1/webhooks/{source}"])
    assert {"post", "put"} <= set(paths["/api/v1/webhooks/{source}/{instance}"])
    for path in ["/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/stats", "/api/v1/health"]:
        assert path in paths
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


async def test_unknown_route_is_a_json_404(service: Service) -> None:
    assert_error(await service.client.get("/api/v1/nothing-here"), 404, "not_found")
