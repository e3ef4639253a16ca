"""The dashboard in Debian's Chromium against a real ``relayarr serve`` over a socket:
login, live updates without a reload, a failed job retried from its page, escaping of a
hostile title, CSRF, the phone layout and the dark theme, no console errors anywhere.

Deadlines only stop a broken run from hanging; nothing here is timed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from browser.conftest import KEY, Watched
from serve_process import ServeProcess

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"
HOSTILE = "<script>alert(1)</script>"
DEADLINE_MS = 20_000


def radarr_download(title: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / "radarr" / "download.json").read_text())
    body["movie"]["title"] = title
    return body


def enqueue(api: httpx.Client, job_type: str, gate: Path) -> int:
    response = api.post("/api/v1/jobs", json={"type": job_type, "payload": {"gate": str(gate)}})
    assert response.status_code == 201, response.text
    return int(response.json()["job"]["id"])


def wait_for_status(api: httpx.Client, job_id: int, status: str) -> dict[str, Any]:
    for _ in range(400):
        job: dict[str, Any] = api.get(f"/api/v1/jobs/{job_id}").json()["job"]
        if job["status"] == status:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never became {status}: {job}")


def test_login_refuses_a_wrong_key_and_keeps_the_key_out_of_pages(watched: Watched) -> None:
    watched.goto("/history")
    assert "/login" in watched.page.url
    watched.page.fill("#api_key", "not-the-key")
    watched.page.click("button[type=submit]")
    expect(watched.page.locator(".problem")).to_have_text("That is not the API key.")
    watched.login()
    for path in ("/", "/history", "/charts"):
        watched.goto(path)
        assert KEY not in watched.page.content()
        assert KEY not in watched.page.url
    cookie = next(c for c in watched.page.context.cookies() if c["name"] == "relayarr_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert watched.console_errors == []


def test_jobs_appear_progress_and_finish_live_without_a_reload(
    watched: Watched, api: httpx.Client, tmp_path: Path
) -> None:
    watched.login()
    page = watched.page
    expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=DEADLINE_MS)
    page.evaluate("window.__sameDocument = true")

    gate = tmp_path / "slow-gate"
    slow = enqueue(api, "slow", gate)
    row = page.locator(f'#running tr[data-id="{slow}"]')
    expect(row).to_be_visible(timeout=DEADLINE_MS)
    expect(row.locator(".message")).to_have_text("waiting for the gate", timeout=DEADLINE_MS)
    assert row.locator("progress").evaluate("bar => bar.value") == 0.5
    expect(page.locator("#counts tfoot td[data-status=processing]")).not_to_have_text("0")
    watched.screenshot("queue-running")

    gate.touch()
    finished = page.locator("#finished li", has=page.locator(f'a[href="/jobs/{slow}"]'))
    expect(finished).to_contain_text("completed", timeout=DEADLINE_MS)
    expect(row).to_have_count(0)

    response = api.post("/api/v1/webhooks/radarr", json=radarr_download("Arrival"))
    assert response.status_code == 202, response.text
    hook = response.json()["job_id"]
    done = page.locator("#finished li", has=page.locator(f'a[href="/jobs/{hook}"]'))
    expect(done).to_contain_text("completed", timeout=DEADLINE_MS)
    expect(done).to_contain_text("webhook")
    # Counts follow without a reload too (fetched after events, at most once a second).
    expect(
        page.locator('#counts tr[data-type="webhook"] td[data-status=completed]')
    ).not_to_have_text("0", timeout=DEADLINE_MS)
    assert page.evaluate("window.__sameDocument") is True
    watched.screenshot("queue")
    assert watched.console_errors == []


def test_a_failed_job_is_retried_from_its_page(
    watched: Watched, api: httpx.Client, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    job_id = enqueue(api, "gated", gate)
    failed = wait_for_status(api, job_id, "failed")
    assert "<b>not bold</b>" in failed["last_error"]

    watched.login()
    watched.goto("/history?status=failed&type=gated")
    expect(watched.page.locator(f'#history tr[data-id="{job_id}"]')).to_contain_text("failed")
    watched.screenshot("history")
    watched.goto(f"/jobs/{job_id}")
    page = watched.page
    # The handler's message is shown as text: its markup is not markup.
    expect(page.locator("#last-error")).to_contain_text("gate gate is closed <b>not bold</b>")
    expect(page.locator("#errors")).to_contain_text("<b>not bold</b>")
    assert page.locator("#errors b").count() == 0
    watched.screenshot("job-failed")

    gate.touch()
    page.click("#retry")
    expect(page.locator(".flash")).to_contain_text(f"Job {job_id} is queued again")
    wait_for_status(api, job_id, "completed")
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("completed")
    # Both attempts' events are on the page: the failure and the run after the retry.
    expect(page.locator("#errors li")).to_have_count(1)
    expect(page.locator("table.events")).to_contain_text("completed")
    watched.screenshot("job-retried")
    assert watched.console_errors == []


def test_bulk_retry_from_history(watched: Watched, api: httpx.Client, tmp_path: Path) -> None:
    gate = tmp_path / "bulk-gate"
    ids = [enqueue(api, "gated", gate) for _ in range(3)]
    for job_id in ids:
        wait_for_status(api, job_id, "failed")
    gate.touch()
    watched.login()
    watched.goto("/history?status=failed&type=gated")
    page = watched.page
    page.check("#select-all")
    page.click("#bulk button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Queued")
    for job_id in ids:
        wait_for_status(api, job_id, "completed")
    assert watched.console_errors == []


def test_a_hostile_title_is_text_and_runs_nothing(watched: Watched, api: httpx.Client) -> None:
    response = api.post("/api/v1/webhooks/radarr", json=radarr_download(HOSTILE))
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    wait_for_status(api, job_id, "completed")
    watched.login()
    page = watched.page
    for path in (f"/jobs/{job_id}", "/history?type=webhook", f"/history?text={HOSTILE}"):
        watched.goto(path)
        expect(page.locator("body")).to_contain_text(HOSTILE)
        assert page.locator("main script").count() == 0
    watched.goto(f"/jobs/{job_id}")
    expect(page.locator("#payload")).to_contain_text(HOSTILE)
    expect(page.locator(".summary")).to_contain_text(HOSTILE)
    watched.screenshot("job-hostile-title")
    assert watched.dialogs == []
    assert watched.console_errors == []


def test_forms_without_the_csrf_token_are_refused(
    watched: Watched, api: httpx.Client, tmp_path: Path
) -> None:
    job_id = enqueue(api, "slow", tmp_path / "never")
    watched.login()
    request = watched.page.request  # the browser's cookies, session included
    refused = request.post(watched.base_url + f"/jobs/{job_id}/cancel", form={"x": "1"})
    assert refused.status == 403
    wrong = request.post(watched.base_url + f"/jobs/{job_id}/cancel", form={"csrf": "guess"})
    assert wrong.status == 403
    assert api.get(f"/api/v1/jobs/{job_id}").json()["job"]["status"] in ("pending", "processing")
    # The page's own form carries the token, and works.
    watched.goto(f"/jobs/{job_id}")
    watched.page.click("#cancel")
    expect(watched.page.locator(".flash")).to_contain_text("is cancelled")
    assert api.get(f"/api/v1/jobs/{job_id}").json()["job"]["status"] == "cancelled"


def test_every_page_renders_without_console_errors(watched: Watched) -> None:
    watched.login()
    for path, name in (
        ("/", "queue-page"),
        ("/history", "history-page"),
        ("/charts", "charts"),
        ("/library", "library"),
        ("/players", "players"),
        ("/mappings", "mappings"),
    ):
        watched.goto(path)
        watched.page.wait_for_load_state("load")
        watched.screenshot(name)
    watched.goto("/library")  # this server has no library: the page says what to add
    expect(watched.page.locator("#not-configured")).to_have_text(
        "No library is configured: add [[library.roots]] to the configuration."
    )
    watched.goto("/charts")
    assert watched.page.locator("figure.chart svg").count() >= 4
    assert watched.console_errors == []


def test_logout_ends_the_session(watched: Watched) -> None:
    watched.login()
    watched.page.click(".logout button")
    watched.page.wait_for_url(re.compile(r".*/login$"))
    response = watched.page.request.get(watched.base_url + "/history", max_redirects=0)
    assert response.status == 303
    assert response.headers["location"].startswith("/login")


def test_phone_layout_is_one_column_and_dark_follows_the_system(
    browser: Browser, server: ServeProcess
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.base_url + "/login")
    page.fill("#api_key", KEY)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    cards = page.locator(".grid > .card")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert first is not None
    assert second is not None
    assert first["x"] == second["x"]  # stacked, not side by side
    assert second["y"] > first["y"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing pushes the page sideways
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(v) for v in re.findall(r"\d+", background)[:3])
    assert red + green + blue < 3 * 64, background
    ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue-phone-dark.png"), full_page=True)
    context.close()
    assert errors == []


def test_the_event_socket_takes_a_session_only_from_this_origin(server: ServeProcess) -> None:
    # In a thread of its own: Playwright's synchronous API holds this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        codes = pool.submit(asyncio.run, _socket_close_codes(server)).result()
    assert codes == {"same origin": None, "other origin": 4401}


async def _socket_close_codes(server: ServeProcess) -> dict[str, int | None]:
    """Open the event socket with a session cookie from this origin and from another one;
    None: it said hello, else the close code it got."""
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        form = await client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None
        logged_in = await client.post(
            "/login", data={"api_key": KEY, "login_token": token.group(1), "next": "/"}
        )
        assert logged_in.status_code == 303
        cookie = f"relayarr_session={client.cookies['relayarr_session']}"
    url = server.base_url.replace("http://", "ws://") + "/api/v1/events"
    codes: dict[str, int | None] = {}
    for name, origin in (("same origin", server.base_url), ("other origin", "http://evil.example")):
        async with connect(
            url, additional_headers={"Cookie": cookie}, origin=Origin(origin)
        ) as socket:
            try:
                message = json.loads(await socket.recv())
                codes[name] = None if message["kind"] == "hello" else -1
            except ConnectionClosed as closed:
                codes[name] = closed.rcvd.code if closed.rcvd is not None else -2
    return codes
