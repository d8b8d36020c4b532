"""The dashboard's tab counts past the server's count cap, in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Demo, screenshot
from tests.browser.test_dashboard import DESKTOP, anonymous_visitor, sign_in
from tests.conftest import make_settings
from tests.live import LiveServer, live_server

expect.set_options(timeout=10_000)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """The demo server, counting at most two conversations of a list exactly."""
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'frontdesk.db'}", demo=True, list_count_cap=2
    )
    with live_server(settings) as live:
        yield live


def test_a_tab_past_the_count_cap_says_so(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    visitor = anonymous_visitor(api, demo)
    for text in ("first", "second", "third"):
        visitor.open_conversation(text)
    page = new_page(viewport=DESKTOP)

    sign_in(page, server, demo)

    expect(page.locator('[data-count="open"]')).to_have_text("2+")
    expect(page.locator('[data-count="closed"]')).to_have_text("0")
    page.get_by_role("tab", name=re.compile("All open")).click()
    expect(page.locator(".conv-item")).to_have_count(3)  # the cap bounds the count, not the list


def test_the_contacts_count_past_the_cap_says_so(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    for text in ("first", "second", "third"):
        anonymous_visitor(api, demo).open_conversation(text)  # a contact each
    page = new_page(viewport=DESKTOP)

    sign_in(page, server, demo)
    page.get_by_role("link", name="Contacts").click()

    expect(page.locator(".contact-row")).to_have_count(3)  # the cap bounds the count, not the list
    expect(page.get_by_text("2+ contacts")).to_be_visible()
    # The page held every contact (fewer than a page): nothing more to load.
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    screenshot(page, "dashboard-contacts-count-capped")
