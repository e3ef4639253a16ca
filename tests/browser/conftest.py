"""A real ``relayarr serve`` and Debian's Chromium driven by Playwright, for the dashboard.

Playwright launches ``/usr/bin/chromium`` (``make test`` installs it with
``scripts/ensure-chromium.sh``) and never downloads a browser. Screenshots go to
``test-artifacts/dashboard/`` (not committed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from serve_process import ServeProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KEY = "browser-test-key-0123456789"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
HANDLERS = Path(__file__).parent

if not CHROMIUM.exists():  # pragma: no cover - make test installs it
    pytest.skip(
        "no /usr/bin/chromium: run scripts/ensure-chromium.sh (make test does)",
        allow_module_level=True,
    )

from playwright.sync_api import (  # noqa: E402 - only once Chromium is known to exist
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)


# Module scope, not session: while Playwright's synchronous API runs it holds this thread's
# event loop, and the async tests collected after these modules need the thread back.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    env = {"PYTHONPATH": os.pathsep.join([str(HANDLERS), os.environ.get("PYTHONPATH", "")])}
    workdir = tmp_path_factory.mktemp("dashboard")
    args = ("--import", "dashboard_handlers", "--concurrency", "4")
    with ServeProcess(workdir, api_key=KEY, args=args, env=env) as running:
        yield running
    assert running.returncode == 0, running.stderr


@pytest.fixture
def api(server: ServeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"X-Api-Key": KEY}, timeout=10) as c:
        yield c


@dataclass
class Watched:
    """A page with everything it reported: console errors, uncaught errors, dialogs."""

    page: Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base_url + path)
        assert response is not None, path
        assert response.ok, (path, response.status)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login(self, key: str = KEY) -> None:
        self.goto("/login")
        self.page.fill("#api_key", key)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(r".*/$"))


@pytest.fixture
def watched(browser: Browser, server: ServeProcess) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Watched(page, server.base_url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.console_errors.append(message.text)

    def on_dialog(dialog: object) -> None:
        seen.dialogs.append(str(getattr(dialog, "message", dialog)))
        dismiss = getattr(dialog, "dismiss", None)
        if callable(dismiss):
            dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.console_errors.append(f"uncaught: {error}"))
    page.on("dialog", on_dialog)
    yield seen
    context.close()
