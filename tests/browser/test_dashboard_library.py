"""The library, players and mappings pages in Debian's Chromium, against a real
``relayarr serve`` with a ``[library]`` over a folder tree made here, path mappings, and a
fake Jellyfin (``tests/fakeplayers``) on a loopback port: a Radarr webhook's movie appears
with its poster, hostile titles and file names stay text, the test button shows the
player's version, the mapping tester shows the matched rule, and no page logs an error.

Deadlines only stop a broken run from hanging; nothing here is timed.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from browser.conftest import KEY, Watched
from fakeplayers.mediabrowser import TOKEN, FakeMediaBrowser, Library
from images import png
from serve_process import ServeProcess

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arr"
ARR_MOVIES = "/data/media/movies"
HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_FILE = "<img src=x onerror=alert(2)>.mkv"
DEADLINE_MS = 20_000


class ThreadedFake:
    """A fake player serving from an event loop of its own thread: Playwright's
    synchronous API holds this thread's loop for the whole module."""

    def __init__(self, fake: FakeMediaBrowser) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeMediaBrowser:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(timeout=30)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@pytest.fixture(scope="module")
def jellyfin() -> Iterator[FakeMediaBrowser]:
    fake = FakeMediaBrowser("jellyfin")
    fake.state.libraries = [Library("Movies", ["/media/movies"])]
    with ThreadedFake(fake) as running:
        yield running


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    (root / "movies").mkdir()
    return root


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, media: Path, jellyfin: FakeMediaBrowser
) -> Iterator[ServeProcess]:
    """``relayarr serve`` with a library, mappings and one player (overrides conftest's)."""
    workdir = tmp_path_factory.mktemp("library-dashboard")
    movies = media / "movies"
    config = workdir / "relayarr.toml"
    config.write_text(
        f"""
[library]
settle_seconds = 0
reconcile_every = "0"

[[library.roots]]
path = {json.dumps(str(movies))}
kind = "movies"

[[mappings]]
source = "radarr"
from = "{ARR_MOVIES}"
to = {json.dumps(str(movies))}

[[players]]
name = "living-room"
type = "jellyfin"
url = "{jellyfin.url}"
token = "{TOKEN}"

[[players.mappings]]
from = {json.dumps(str(movies))}
to = "/media/movies"
""",
        encoding="utf-8",
    )
    env = {"RELAYARR_CONFIG": str(config)}
    with ServeProcess(workdir, api_key=KEY, env=env) as running:
        yield running
    assert running.returncode == 0, running.stderr


@pytest.fixture
def api(server: ServeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"X-Api-Key": KEY}, timeout=10) as c:
        yield c


def movie_folder(media: Path, name: str, video: str, *, poster: bool = True) -> None:
    folder = media / "movies" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / video).write_bytes(b"\0" * 1024)
    if poster:
        (folder / "poster.png").write_bytes(png(20, 30, (30, 90, 200)))


def download(folder: str, video: str, title: str, tmdb_id: int) -> dict[str, Any]:
    """Radarr's Download webhook for ``folder``/``video``, with the paths Radarr sends."""
    body: dict[str, Any] = json.loads((FIXTURES / "radarr" / "download.json").read_text())
    body["movie"].update(title=title, folderPath=f"{ARR_MOVIES}/{folder}", tmdbId=tmdb_id)
    body["remoteMovie"].update(title=title, tmdbId=tmdb_id)
    body["movieFile"].update(relativePath=video, path=f"{ARR_MOVIES}/{folder}/{video}")
    body["isUpgrade"] = False
    body["deletedFiles"] = []
    return body


def send_and_wait(api: httpx.Client, body: dict[str, Any], search: str) -> int:
    """Send the webhook; the movie's id once its scan has recorded it."""
    response = api.post("/api/v1/webhooks/radarr", json=body)
    assert response.status_code == 202, response.text
    for _ in range(400):
        items = api.get("/api/v1/library/movies", params={"search": search}).json()["items"]
        if items:
            return int(items[0]["id"])
        time.sleep(0.05)
    raise AssertionError(f"{search!r} never reached the library: {api.get('/api/v1/jobs').text}")


def test_a_webhook_movie_appears_on_the_library_page_with_its_poster(
    watched: Watched, api: httpx.Client, media: Path
) -> None:
    video = "Arrival (2016) [Bluray-2160p].mkv"
    movie_folder(media, "Arrival (2016)", video)
    movie_id = send_and_wait(api, download("Arrival (2016)", video, "Arrival", 329865), "arrival")
    watched.login()
    watched.goto("/library")
    page = watched.page
    item = page.locator(f'li.item[data-kind="movie"][data-id="{movie_id}"]')
    expect(item.locator(".title")).to_have_text("Arrival")
    poster = item.locator("img.poster")
    expect(poster).to_have_count(1)
    poster.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 20", arg=poster.element_handle()
    )
    watched.screenshot("library")

    item.locator("a").click()
    expect(page.locator("#item-title")).to_contain_text("Arrival")
    expect(page.locator("#files")).to_contain_text(video)
    expect(page.locator("#assets")).to_contain_text("poster.png")
    expect(page.locator("#needs-metadata")).to_be_visible()
    page.wait_for_function("document.querySelector('img.poster.large').naturalWidth === 20")
    expect(page.locator("#jobs")).to_contain_text("webhook")  # the chain that touched it
    scan = page.locator("#jobs a", has_text="scan-movie")
    expect(scan).to_have_count(1)
    watched.screenshot("library-item")
    scan.click()
    expect(page.locator("h1")).to_contain_text("scan-movie")
    assert watched.console_errors == []


def test_hostile_titles_and_file_names_show_as_text(
    watched: Watched, api: httpx.Client, media: Path
) -> None:
    movie_folder(media, "Hostile (2020)", HOSTILE_FILE)
    movie_id = send_and_wait(
        api, download("Hostile (2020)", HOSTILE_FILE, HOSTILE_TITLE, 4242), "alert(1)"
    )
    watched.login()
    watched.goto("/library?search=alert")
    page = watched.page
    expect(page.locator(f'li.item[data-id="{movie_id}"] .title')).to_have_text(HOSTILE_TITLE)
    watched.goto(f"/library/movie/{movie_id}")
    expect(page.locator("#item-title")).to_contain_text(HOSTILE_TITLE)
    expect(page.locator("#files")).to_contain_text(HOSTILE_FILE)
    assert page.locator("main script").count() == 0
    assert page.locator("img[src='x']").count() == 0
    watched.screenshot("library-item-hostile")
    assert watched.dialogs == []
    assert watched.console_errors == []


def test_the_players_test_button_shows_the_fake_players_version(
    watched: Watched, jellyfin: FakeMediaBrowser
) -> None:
    watched.login()
    watched.goto("/players")
    page = watched.page
    player = page.locator('article[data-player="living-room"]')
    expect(player.locator(".badge.b-closed")).to_have_text("closed")
    player.locator("button.test").click()
    expect(page.locator(".flash")).to_contain_text("Tested living-room")
    player = page.locator('article[data-player="living-room"]')
    expect(player.locator(".version")).to_have_text("Jellyfin 10.10.3 (fake-jellyfin)")
    expect(player.locator(".reachable")).to_have_text("yes")
    expect(player.locator(".roots")).to_contain_text("/media/movies")
    assert TOKEN not in page.content()
    assert jellyfin.calls("GET", "/System/Info")
    watched.screenshot("players")
    assert watched.console_errors == []


def test_the_mapping_tester_shows_the_matched_rule(watched: Watched, media: Path) -> None:
    watched.login()
    watched.goto("/mappings")
    page = watched.page
    expect(page.locator("#roots li")).to_have_attribute("data-available", "yes")
    page.fill("#try input[name=source]", "radarr")
    page.fill("#try input[name=path]", f"{ARR_MOVIES}/Arrival (2016)/Arrival.mkv")
    page.click("#try button[type=submit]")
    expect(page.locator("#matched-rule")).to_contain_text(f"radarr: {ARR_MOVIES}")
    expect(page.locator("#mapped")).to_contain_text(f"{media}/movies/Arrival (2016)/Arrival.mkv")
    expect(page.locator("#root")).to_contain_text(f"{media}/movies")
    expect(page.locator("#trials tr.outcome-chosen")).to_have_count(1)
    watched.screenshot("mappings")
    page.fill("#try input[name=path]", "/somewhere/else.mkv")
    page.click("#try button[type=submit]")
    expect(page.locator("#mapped")).to_contain_text("not mapped")
    assert watched.console_errors == []


def test_the_new_pages_on_a_phone_in_the_dark(
    browser: Browser, server: ServeProcess, api: httpx.Client, media: Path
) -> None:
    video = "A.Rather.Long.Release.Name.That.Must.Wrap.On.A.Phone.2160p.UHD.BluRay.x265.mkv"
    movie_folder(media, "Phone (2022)", video)
    movie_id = send_and_wait(api, download("Phone (2022)", video, "Phone", 777), "phone")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.base_url + "/login")
    page.fill("#api_key", KEY)
    page.click("button[type=submit]")
    page.wait_for_url(server.base_url + "/")
    seen = Watched(page, server.base_url)
    for path, name in (("/library", "library-phone-dark"), ("/players", "players-phone-dark"),
                       ("/mappings", "mappings-phone-dark"),
                       (f"/library/movie/{movie_id}", "library-item-phone-dark")):  # fmt: skip
        seen.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        seen.screenshot(name)
    context.close()
    assert errors == []
