"""Real-browser fixtures: a live demo server and Debian's Chromium driven by Playwright.

Screenshots land in ``tests/artifacts/screenshots`` (ignored by git) so a person can look.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI, make_settings
from tests.live import LiveServer, live_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.browser


# Package scope: one browser for the whole browser suite, stopped before other tests run,
# because Playwright's sync API keeps an event loop running that breaks asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("chromium is not installed (make test installs Debian's package)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A demo server on SQLite (the browser tests exercise the UI, not the database)."""
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'frontdesk.db'}", demo=True)
    with live_server(settings) as live:
        yield live


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """``new_page(**context_options)``: a page in a fresh browser context (own storage)."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class SocketFrames:
    """One end of /ws in a test: send frames, wait for one of an action (others are skipped)."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    def send(self, action: str, **payload: Any) -> None:
        self.socket.send(json.dumps({"action": action, "payload": payload}))

    def wait_for(self, action: str) -> dict[str, Any]:
        while True:
            frame = json.loads(self.socket.recv(timeout=10))
            if frame["action"] == action:
                payload: dict[str, Any] = frame["payload"]
                return payload


@contextmanager
def signed_in_socket(server: LiveServer, token: str, *topics: str) -> Iterator[SocketFrames]:
    """A /ws connection authenticated with `token` and subscribed to `topics`."""
    from websockets.sync.client import connect

    with connect(server.url.replace("http", "ws", 1) + "/ws") as socket:
        frames = SocketFrames(socket)
        frames.send("authenticate", token=token)
        frames.wait_for("authenticated")
        for topic in topics:
            frames.send("subscribe", topic=topic)
            frames.wait_for("subscribed")
        yield frames


@dataclass
class Demo:
    """The demo project and agent that the live server seeds (its ``demo.json``)."""

    email: str
    password: str
    project_id: str
    secret: str
    kid: str


@pytest.fixture
def demo(server: LiveServer) -> Demo:
    return Demo(**json.loads((server.services.settings.data_dir / "demo.json").read_text()))


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client
