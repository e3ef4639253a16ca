"""The library API of a relayarr without ``[[library.roots]]``: a clear 409, nothing queued."""

from __future__ import annotations

import pytest

from .conftest import Service


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/scan", {"path": "/srv/media/movies/Arrival (2016)"}),
        ("POST", "/api/v1/mappings/try", {"source": "radarr", "path": "/movies/Arrival"}),
        ("GET", "/api/v1/library/movies", None),
        ("GET", "/api/v1/library/series/1", None),
    ],
)
async def test_without_a_library_the_library_api_says_so(
    service: Service, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = await service.client.request(method, path, json=body)
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "library_not_configured"
    assert error["message"] == (
        "no library is configured: add [[library.roots]] to the configuration"
    )
    assert await service.job_count() == 0
