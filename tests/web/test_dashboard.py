"""The dashboard in-process (httpx over ASGI, a real SQLite queue): login and sessions,
CSRF, headers, escaping, history filters and bulk retry, job detail with every attempt's
error and the chain, charts, error pages. The browser tests (tests/browser/) drive the
same pages in Chromium against a real server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from relayarr.app import build_queue
from relayarr.config import ServerSettings, Settings
from relayarr.jobqueue import Job, JobQueue, JobStatus, Retry, open_storage
from relayarr.web import create_app
from web.conftest import KEY

HOSTILE = "<script>alert(1)</script>"
DEADLINE = 20.0


@dataclass
class Dash:
    queue: JobQueue
    client: httpx.AsyncClient  # logged in
    anonymous: httpx.AsyncClient
    csrf: str

    async def add(self, job_type: str = "thing", **payload: object) -> Job:
        self.queue.declare(job_type)
        return await self.queue.add_job(job_type, payload)

    async def post(self, path: str, data: dict[str, object] | None = None) -> httpx.Response:
        return await self.client.post(path, data={"csrf": self.csrf, **(data or {})})


async def log_in(client: httpx.AsyncClient, key: str = KEY) -> httpx.Response:
    form = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    return await client.post(
        "/login", data={"api_key": key, "login_token": token.group(1), "next": "/history"}
    )


def csrf_of(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)">', html)
    assert found is not None
    return found.group(1)


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[Dash]:
    storage = await open_storage(f"sqlite:///{tmp_path}/queue.db")
    queue = build_queue(Settings(data_dir=tmp_path), storage, share_events=True)
    app = create_app(queue, ServerSettings(), api_key=KEY)
    transport = httpx.ASGITransport(app=app)
    base = "http://relayarr.test"
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=base) as client,
        httpx.AsyncClient(transport=transport, base_url=base) as anonymous,
    ):
        assert (await log_in(client)).status_code == 303
        csrf = csrf_of((await client.get("/")).text)
        yield Dash(queue, client, anonymous, csrf)
        await queue.stop()
    await storage.aclose()


async def run_until_finished(queue: JobQueue, job_id: int) -> Job:
    """Start the workers and return the job once an event says it finished."""
    async with asyncio.timeout(DEADLINE), queue.events.subscribe() as events:
        await queue.start(concurrency=1)
        async for event in events:
            if event.job_id == job_id and event.kind in ("completed", "failed", "cancelled"):
                break
    return await queue.get_job(job_id)


# -- login, sessions, CSRF -------------------------------------------------------------------


async def test_pages_send_strangers_to_the_login_page(dash: Dash) -> None:
    for path in ("/", "/history?status=failed", "/jobs/1", "/charts", "/library", "/ui/state"):
        response = await dash.anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2F"), path
    assert (await dash.anonymous.get("/login")).status_code == 200


async def test_login_sets_a_strict_http_only_cookie_and_goes_where_asked(dash: Dash) -> None:
    response = await log_in(dash.anonymous)
    assert response.status_code == 303
    assert response.headers["location"] == "/history"
    cookie = next(v for k, v in response.headers.multi_items() if v.startswith("relayarr_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http here
    assert KEY not in response.text
    page = await dash.anonymous.get("/history")
    assert page.status_code == 200
    assert KEY not in page.text


async def test_over_https_the_cookie_is_secure(dash: Dash) -> None:
    transport = dash.client._transport
    async with httpx.AsyncClient(transport=transport, base_url="https://relayarr.test") as tls:
        response = await log_in(tls)
    cookie = next(v for k, v in response.headers.multi_items() if v.startswith("relayarr_session="))
    assert "Secure" in cookie
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_a_wrong_key_or_a_forged_login_form_logs_nobody_in(dash: Dash) -> None:
    wrong = await log_in(dash.anonymous, "wrong-key")
    assert wrong.status_code == 200
    assert "That is not the API key." in wrong.text
    assert "relayarr_session" not in wrong.headers.get("set-cookie", "")
    forged = await dash.anonymous.post(
        "/login", data={"api_key": KEY, "login_token": "made-up", "next": "/"}
    )
    assert forged.status_code == 403
    assert "relayarr_session" not in forged.headers.get("set-cookie", "")


async def test_posts_without_the_token_change_nothing(dash: Dash) -> None:
    job = await dash.add()
    for data in ({}, {"csrf": "nope"}, {"csrf": ""}):
        response = await dash.client.post(f"/jobs/{job.id}/cancel", data=data)
        assert response.status_code == 403
        assert "text/html" in response.headers["content-type"]
    anonymous = await dash.anonymous.post(f"/jobs/{job.id}/cancel", data={"csrf": dash.csrf})
    assert anonymous.status_code == 403
    assert (await dash.queue.get_job(job.id)).status is JobStatus.PENDING
    # The header works as well as the form field (the page's script uses it).
    response = await dash.client.post(f"/jobs/{job.id}/cancel", headers={"X-CSRF-Token": dash.csrf})
    assert response.status_code == 303
    assert (await dash.queue.get_job(job.id)).status is JobStatus.CANCELLED


async def test_logout_ends_the_session(dash: Dash) -> None:
    assert (await dash.client.post("/logout")).status_code == 403  # needs the token too
    response = await dash.post("/logout")
    assert response.status_code == 303
    assert (await dash.client.get("/")).status_code == 303


# -- headers and escaping ------------------------------------------------------------------


async def test_pages_carry_a_strict_policy_and_the_api_does_not_change(dash: Dash) -> None:
    page = await dash.client.get("/")
    policy = page.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self' ws://relayarr.test wss://relayarr.test",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # the only script is the module file
    assert ' style="' not in page.text
    static = await dash.client.get("/static/dashboard.js")
    assert static.status_code == 200
    assert "content-security-policy" in static.headers
    assert "innerHTML" not in static.text
    api = await dash.client.get("/api/v1/health")
    assert "content-security-policy" not in api.headers


async def test_every_text_from_a_job_is_escaped(dash: Dash) -> None:
    job = await dash.add("webhook-ish", title=HOSTILE, path=f"/movies/{HOSTILE}")
    for path in (f"/jobs/{job.id}", "/history", "/"):
        page = await dash.client.get(path)
        assert HOSTILE not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path


# -- history -----------------------------------------------------------------------------------


async def test_history_filters_by_status_type_text_and_time(dash: Dash) -> None:
    first = await dash.add("scan", path="/movies/Arrival")
    await dash.add("scan", path="/movies/Dune")
    other = await dash.add("notify", player="kodi")
    await dash.queue.cancel_job(first.id)

    async def ids(query: str) -> list[int]:
        page = await dash.client.get("/history?" + query)
        assert page.status_code == 200, page.text
        return [int(i) for i in re.findall(r'<tr data-id="(\d+)">', page.text)]

    assert await ids("") == [other.id, first.id + 1, first.id]
    assert await ids("status=cancelled") == [first.id]
    assert await ids("type=notify") == [other.id]
    assert await ids("text=arrival") == [first.id]
    assert await ids("range=1h&type=scan") == [first.id + 1, first.id]
    assert await ids("until=2000-01-01T00:00") == []
    page = await dash.client.get("/history?status=bogus&since=yesterday")
    assert "unknown status &#39;bogus&#39; ignored" in page.text
    assert "the from time is not a date and time" in page.text


async def test_history_pages_by_cursor(dash: Dash) -> None:
    jobs = [await dash.add("scan", n=n) for n in range(30)]
    page = await dash.client.get("/history?limit=25")
    shown = [int(i) for i in re.findall(r'<tr data-id="(\d+)">', page.text)]
    assert shown == [job.id for job in reversed(jobs)][:25]
    older = re.search(r'href="/history\?([^"]+)" rel="next"', page.text)
    assert older is not None
    rest = await dash.client.get("/history?" + older.group(1).replace("&amp;", "&"))
    assert [int(i) for i in re.findall(r'<tr data-id="(\d+)">', rest.text)] == [
        job.id for job in reversed(jobs[:5])
    ]
    assert 'rel="next"' not in rest.text


async def test_bulk_retry_queues_the_ticked_jobs_and_names_the_rest(dash: Dash) -> None:
    failed = [await dash.add("scan") for _ in range(2)]
    for job in failed:
        await dash.queue.cancel_job(job.id)
    pending = await dash.add("scan")
    response = await dash.post(
        "/history/retry",
        {"ids": [failed[0].id, failed[1].id, pending.id], "back": "/history?status=cancelled"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/history?status=cancelled"
    for job in failed:
        assert (await dash.queue.get_job(job.id)).status is JobStatus.PENDING
    page = await dash.client.get("/history")
    assert "Queued 2 jobs again. 1 could not be:" in page.text
    away = await dash.post("/history/retry", {"ids": [failed[0].id], "back": "//evil.example"})
    assert away.headers["location"] == "/"


# -- job detail ------------------------------------------------------------------------------


async def test_the_job_page_shows_every_attempts_error_and_the_chain(dash: Dash) -> None:
    queue = dash.queue
    attempts: list[int] = []

    @queue.handler("flaky", max_attempts=3, breaker=False)
    async def flaky(job: Job) -> None:
        attempts.append(job.attempts)
        if job.attempts < 3:
            raise Retry(delay=0, reason=f"busy <i>{job.attempts}</i>")

    root = await queue.add_job("flaky", {"title": "root"})
    queue.declare("child")
    child = await queue.add_job("child", {"n": 1}, parent_id=root.id)
    grandchild = await queue.add_job("child", {"n": 2}, parent_id=child.id)
    assert (await run_until_finished(queue, root.id)).status is JobStatus.COMPLETED
    await queue.flush_events()
    page = (await dash.client.get(f"/jobs/{root.id}")).text
    assert attempts == [1, 2, 3]
    for attempt in (1, 2):
        assert f"Retry: busy &lt;i&gt;{attempt}&lt;/i&gt;" in page
    assert page.count("will retry") == 2
    assert "no longer in the event log" not in page
    # The chain, seen from the grandchild: root > child > grandchild.
    tree = (await dash.client.get(f"/jobs/{grandchild.id}")).text
    links = re.findall(r'<a href="/jobs/(\d+)"', tree.split('class="tree"')[1])
    assert [int(i) for i in links[:3]] == [root.id, child.id, grandchild.id]
    assert 'aria-current="true"' in tree


async def test_retry_and_cancel_from_the_job_page(dash: Dash) -> None:
    job = await dash.add("scan")
    assert (await dash.post(f"/jobs/{job.id}/cancel")).headers["location"] == f"/jobs/{job.id}"
    page = (await dash.client.get(f"/jobs/{job.id}")).text
    assert f"Job {job.id} is cancelled." in page
    assert 'id="retry"' in page
    await dash.post(f"/jobs/{job.id}/retry")
    page = (await dash.client.get(f"/jobs/{job.id}")).text
    assert f"Job {job.id} is queued again." in page
    assert 'id="cancel"' in page
    await dash.post(f"/jobs/{job.id}/retry")  # not failed now: said, not an error page
    assert "Not retried:" in (await dash.client.get(f"/jobs/{job.id}")).text


async def test_unknown_pages_and_jobs_are_pages_and_the_api_stays_json(dash: Dash) -> None:
    for path in ("/jobs/999999", "/no-such-page"):
        response = await dash.client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
    api = await dash.client.get("/api/v1/nope", headers={"X-Api-Key": KEY})
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


# -- live state and charts -------------------------------------------------------------------


async def test_live_state_and_active_lists_for_the_script(dash: Dash) -> None:
    job = await dash.add("scan", path="/movies/Arrival")
    state = (await dash.client.get("/ui/state")).json()
    assert state["stats"]["by_type"]["scan"]["pending"] == 1
    assert state["breakers"] == []
    active = (await dash.client.get("/ui/active")).json()
    assert [row["id"] for row in active["pending"]] == [job.id]
    assert active["pending"][0]["summary"] == "/movies/Arrival"
    assert active["running"] == []


async def test_charts_draw_what_happened(dash: Dash) -> None:
    job = await dash.add("scan")
    await dash.queue.cancel_job(job.id)
    page = await dash.client.get("/charts")
    assert page.status_code == 200
    assert page.text.count("<svg") == 6 - page.text.count("No failures.")
    assert "<polyline" in page.text
