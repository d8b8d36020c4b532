"""The chat widget in headless Chromium, on the demo customer site and on a hostile page.

What a visitor would notice: the same anonymous identity across reloads and conversations,
agent replies arriving live, logging in on the customer's site, logging out, and a widget
that still works on a page whose CSS is out to break it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.live import LiveServer

pytestmark = pytest.mark.browser

LIVE_TIMEOUT = 10_000  # ms: the widget may be polling when no WebSocket is available
XSS = '<img src=x onerror="window.__pwned = true">'
HOSTILE_CSS = """
* { display: block !important; font-size: 40px !important; color: red !important;
    position: static !important; }
button { display: none !important; }
frontdesk-widget { display: none !important; opacity: 0 !important; }
"""


class DemoAgent:
    """The demo agent, talking to the live server's REST API."""

    def __init__(self, server: LiveServer) -> None:
        info = json.loads((server.services.settings.data_dir / "demo.json").read_text())
        self.project_id: str = info["project_id"]
        self.http = httpx.Client(base_url=server.url, timeout=10)
        r = self.http.post(
            "/auth/signin", json={"email": info["email"], "password": info["password"]}
        )
        r.raise_for_status()
        self.http.headers["Authorization"] = r.json()["token"]

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(f"/{self.project_id}{path}", params=params)
        r.raise_for_status()
        return r.json()

    def reply(self, rid: str, text: str) -> None:
        r = self.http.post(f"/{self.project_id}/requests/{rid}/messages", json={"text": text})
        r.raise_for_status()

    def close(self, rid: str) -> None:
        self.http.put(f"/{self.project_id}/requests/{rid}/close").raise_for_status()

    def requests_of(self, user_id: str) -> list[dict[str, Any]]:
        found = self.get("/requests", limit=100)["requests"]
        return [r for r in found if r["requester_id"] == user_id]

    def leads_of(self, user_id: str) -> list[dict[str, Any]]:
        return [lead for lead in self.get("/leads")["leads"] if lead["lead_id"] == user_id]


@pytest.fixture
def agent(server: LiveServer) -> Iterator[DemoAgent]:
    demo_agent = DemoAgent(server)
    yield demo_agent
    demo_agent.http.close()


def widget_user(page: Page) -> dict[str, Any]:
    page.wait_for_function("() => window.frontdesk && window.frontdesk.getUser() !== null")
    user: dict[str, Any] = page.evaluate("window.frontdesk.getUser()")
    return user


def open_widget(page: Page) -> None:
    page.get_by_role("button", name="Open chat").click()
    expect(page.locator("frontdesk-widget .panel")).to_be_visible()


def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    sent = page.locator("frontdesk-widget .msg.mine").filter(has_text=text).last
    expect(sent).to_be_visible()
    expect(sent.locator(".meta")).not_to_have_text("Sending…")


def start_conversation(page: Page, text: str) -> None:
    page.get_by_role("button", name="New conversation").first.click()
    send(page, text)


def demo_conversation(server: LiveServer, new_page: Any, text: str) -> Page:
    """A desktop-sized page of the demo shop whose visitor opened the widget and started a
    conversation with ``text``."""
    page: Page = new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url + "/demo/")
    open_widget(page)
    start_conversation(page, text)
    return page


def open_rid(page: Page) -> str:
    """The id of the conversation the visitor is in, as the server knows it."""
    rid: str = page.evaluate(
        "async () => (await fetch('/' + window.frontdeskSettings.projectid + '/requests/me', "
        "{headers: {Authorization: localStorage.getItem("
        "'frontdesk:' + window.frontdeskSettings.projectid + ':token')}}).then(r => r.json()))"
        ".requests[0].request_id"
    )
    return rid


def test_anonymous_visitor_keeps_one_identity_and_one_contact(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    page = new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url + "/demo/")
    expect(page.get_by_role("button", name="Open chat")).to_be_visible()
    screenshot(page, "widget-launcher-closed")

    open_widget(page)
    expect(page.get_by_text("No conversations yet.")).to_be_visible()
    screenshot(page, "widget-home")
    visitor = widget_user(page)
    assert visitor["isAuthenticated"] is False

    start_conversation(page, "Hello, where is my order?")
    agent.reply(open_rid(page), "Hi! Let me check that for you.")
    reply = page.locator("frontdesk-widget .msg:not(.mine)").filter(has_text="Let me check")
    expect(reply).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(reply.locator(".sender")).to_have_text("Demo Agent")
    screenshot(page, "widget-conversation-with-reply")

    page.reload()
    assert widget_user(page)["_id"] == visitor["_id"]
    open_widget(page)
    expect(page.locator("frontdesk-widget .row")).to_have_count(1)
    expect(page.locator("frontdesk-widget .row")).to_contain_text("Let me check")
    start_conversation(page, "And a second question about returns")
    assert widget_user(page)["_id"] == visitor["_id"]

    assert len(agent.requests_of(visitor["_id"])) == 2
    assert len(agent.leads_of(visitor["_id"])) == 1


def test_live_reply_badge_untrusted_text_and_rating_on_a_phone(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(server.url + "/demo/")
    open_widget(page)
    start_conversation(page, "Is the oak desk in stock?")
    panel = page.locator("frontdesk-widget .panel").bounding_box()
    assert panel is not None and panel["width"] == 390  # full screen on a phone
    screenshot(page, "widget-phone")
    rid = open_rid(page)

    page.get_by_role("button", name="Minimize chat").click()
    agent.reply(rid, XSS)
    expect(page.locator("frontdesk-widget .badge")).to_have_text("1", timeout=LIVE_TIMEOUT)

    open_widget(page)
    expect(page.locator("frontdesk-widget .badge")).to_be_hidden()
    expect(page.locator("frontdesk-widget .bubble").filter(has_text=XSS)).to_be_visible()
    assert page.locator("frontdesk-widget img").count() == 0
    assert page.evaluate("window.__pwned") is None

    agent.close(rid)
    expect(page.get_by_text("This conversation is closed.")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(page.get_by_role("textbox", name="Message")).to_have_count(0)
    page.get_by_role("button", name="Rate 4 out of 5").click()
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_text("You rated this conversation 4/5")).to_be_visible()
    screenshot(page, "widget-closed-rated")
    assert agent.get(f"/requests/{rid}")["rating"] == 4


def test_demo_login_authenticates_and_logout_forgets_the_visitor(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    page = demo_conversation(server, new_page, "Just browsing, anonymously")
    anonymous = widget_user(page)

    page.get_by_role("button", name="Log in").click()
    page.wait_for_function("() => window.frontdesk.getUser()?.isAuthenticated === true")
    customer = widget_user(page)
    expect(page.locator("#identity")).to_contain_text("Verified customer Grace Hopper")
    # Same browser, both proofs: the anonymous conversation moved to Grace's contact.
    expect(page.locator("frontdesk-widget")).to_contain_text("Just browsing")
    [merged] = agent.requests_of(anonymous["_id"])
    assert merged["lead"]["lead_id"] == customer["_id"]
    assert merged["attributes"]["senderAuthInfo"]["verified"] is False  # not retro-verified
    start_conversation(page, "I am logged in now")
    screenshot(page, "widget-authenticated")

    [request] = agent.requests_of(customer["_id"])
    assert request["requester"]["isAuthenticated"] is True
    auth_info = request["attributes"]["senderAuthInfo"]
    assert auth_info["verified"] is True
    assert auth_info["authVar"]["sign_in_provider"] == "custom"
    assert auth_info["authVar"]["token"]["email"] == "grace@example.com"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_function("() => window.frontdesk.getUser() === null")
    stored = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('frontdesk:'))")
    assert stored == []
    expect(page.locator("frontdesk-widget")).not_to_contain_text("I am logged in now")

    page.reload()
    open_widget(page)
    fresh = widget_user(page)
    assert fresh["_id"] not in (anonymous["_id"], customer["_id"])
    expect(page.get_by_text("No conversations yet.")).to_be_visible()


def test_a_revoked_session_signs_the_widget_out_cleanly(server: LiveServer, new_page: Any) -> None:
    page = new_page()
    page.goto(server.url + "/demo/")
    open_widget(page)
    first = widget_user(page)
    token = page.evaluate(
        "localStorage.getItem('frontdesk:' + window.frontdeskSettings.projectid + ':token')"
    )
    httpx.post(server.url + "/auth/logout", headers={"Authorization": token}).raise_for_status()

    page.reload()
    expect(page.locator("#identity")).to_contain_text("Not signed in yet")
    assert page.evaluate("window.frontdesk.getUser()") is None
    open_widget(page)
    assert widget_user(page)["_id"] != first["_id"]


def test_a_host_page_with_hostile_css_does_not_break_the_widget(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    host_page = f"""<!doctype html><html><head><style>{HOSTILE_CSS}</style></head><body>
      <h1>A customer page with aggressive CSS</h1><button>Buy now</button>
      <script>window.tiledeskSettings = {{projectid: "{agent.project_id}"}};</script>
      <script src="{server.url}/widget/frontdesk.js"></script></body></html>"""
    # Another origin than the server's (localhost vs 127.0.0.1): the widget is cross-origin,
    # as on a real customer site. Chromium asks before a page reaches a loopback address.
    host_origin = f"http://localhost:{server.port}"
    host_url = host_origin + "/customer-shop"
    page = new_page(viewport={"width": 1280, "height": 800})
    page.context.grant_permissions(["local-network-access"], origin=host_origin)
    page.route(
        host_url,
        lambda route: route.fulfill(status=200, content_type="text/html", body=host_page),
    )
    page.goto(host_url)

    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert box is not None and box["width"] == 60 and box["height"] == 60
    open_widget(page)
    start_conversation(page, "Hello from a hostile page")
    bubble = page.locator("frontdesk-widget .bubble").filter(has_text="hostile page")
    assert bubble.evaluate("node => getComputedStyle(node).fontSize") == "14px"
    assert bubble.evaluate("node => getComputedStyle(node).color") == "rgb(255, 255, 255)"
    screenshot(page, "widget-hostile-css")


def test_after_logging_in_the_visitors_earlier_messages_stay_its_own(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    # The merged conversation holds messages of the anonymous id and of the customer's: both
    # are the visitor's (the server's senderKind), the agent's reply is not.
    page = demo_conversation(server, new_page, "Asked before logging in")
    rid = open_rid(page)
    agent.reply(rid, "Happy to help")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_function("() => window.frontdesk.getUser()?.isAuthenticated === true")
    page.locator("frontdesk-widget .conversations button").filter(
        has_text="Happy to help").click()
    send(page, "Now I am logged in")
    mine = page.locator("frontdesk-widget .messages .msg.mine .bubble")
    expect(mine).to_have_text(["Asked before logging in", "Now I am logged in"])
    theirs = page.locator("frontdesk-widget .messages .msg:not(.mine):not(.welcome) .bubble")
    expect(theirs).to_have_text(["Happy to help"])
    screenshot(page, "widget-merged-conversation")
