"""The widget's live path in headless Chromium: the /ws socket, not the polling fallback.

What a visitor would notice: an agent's reply and typing appear at once, replies posted while
the connection was down all show up once and in order after it comes back, and signing out
elsewhere (another tab, a revoked session) empties the widget without a reload.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect
from websockets.sync.client import connect

from tests.browser.conftest import SocketFrames, screenshot
from tests.browser.test_widget import (
    DemoAgent,
    agent,
    demo_conversation,
    open_rid,
    open_widget,
    start_conversation,
)
from tests.live import LiveServer

pytestmark = pytest.mark.browser

__all__ = ["agent"]  # the fixture, imported so pytest finds it here

POLLED = "/messages?after="
AGENT_REPLIES = "frontdesk-widget .messages .msg:not(.mine):not(.welcome) .bubble"




@pytest.fixture
def agent_socket(server: LiveServer, agent: DemoAgent) -> Iterator[SocketFrames]:
    with connect(server.url.replace("http", "ws", 1) + "/ws") as socket:
        frames = SocketFrames(socket)
        frames.send("authenticate", token=agent.http.headers["Authorization"])
        frames.wait_for("authenticated")
        yield frames


def record_polls(page: Page) -> list[str]:
    polled: list[str] = []
    page.on("request", lambda request: POLLED in request.url and polled.append(request.url))
    return polled


def expect_live(page: Page) -> None:
    expect(page.locator("frontdesk-widget")).to_have_attribute("data-connection", "live")
    assert page.evaluate("window.frontdesk.getConnectionState()") == "live"


def widget_token(page: Page) -> str:
    token: str = page.evaluate(
        "localStorage.getItem('frontdesk:' + window.frontdeskSettings.projectid + ':token')"
    )
    return token


def test_reply_typing_and_read_go_over_the_socket_and_logout_elsewhere_signs_out(
    server: LiveServer, new_page: Any, agent: DemoAgent, agent_socket: SocketFrames
) -> None:
    page = new_page(viewport={"width": 1280, "height": 800})
    polled = record_polls(page)
    page.goto(server.url + "/demo/")
    open_widget(page)
    start_conversation(page, "Do you ship to Norway?")
    expect_live(page)
    rid = open_rid(page)
    visitor_id = page.evaluate("window.frontdesk.getUser()._id")
    topic = f"/{agent.project_id}/requests/{rid}"
    agent_socket.send("subscribe", topic=topic)
    agent_socket.wait_for("subscribed")

    agent.reply(rid, "We do, in three to five days.")
    expect(page.locator(AGENT_REPLIES)).to_have_text(["We do, in three to five days."])
    [reply] = [m for m in agent.get(f"/requests/{rid}/messages") if m["text"].startswith("We do")]
    read = agent_socket.wait_for("read")
    assert (read["message_id"], read["user_id"]) == (reply["_id"], visitor_id)

    agent_socket.send("typing", topic=topic, typing=True)
    indicator = page.locator('frontdesk-widget [aria-label="typing"]')
    expect(indicator).to_contain_text("Demo Agent is typing…")
    screenshot(page, "widget-agent-typing")
    agent_socket.send("typing", topic=topic, typing=False)
    expect(indicator).to_be_hidden()

    page.get_by_role("textbox", name="Message").press_sequentially("Great")
    typing = agent_socket.wait_for("typing")
    assert (typing["topic"], typing["user_id"], typing["typing"]) == (topic, visitor_id, True)
    page.get_by_role("textbox", name="Message").press("Enter")
    assert agent_socket.wait_for("typing")["typing"] is False
    assert polled == []

    # The visitor logs out in another tab: this tab's socket is closed with 4401
    # session_revoked, and the widget forgets the visitor without a reload.
    sockets: list[Any] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    agent.http.post("/auth/logout", headers={"Authorization": widget_token(page)})
    page.wait_for_function("() => window.frontdesk.getUser() === null")
    expect(page.locator("frontdesk-widget")).to_have_attribute("data-connection", "offline")
    expect(page.get_by_text("No conversations yet.")).to_be_visible()
    expect(page.locator("frontdesk-widget")).not_to_contain_text("Norway")
    assert widget_token(page) is None
    page.wait_for_timeout(1500)  # longer than the first reconnect delay
    assert sockets == []


def test_replies_posted_while_the_socket_is_down_show_once_in_order(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    """The socket drops (server shutdown) and the next one hangs before authenticating, while
    the agent posts three replies; the one after that resumes from the last message seen."""
    page = new_page(viewport={"width": 1280, "height": 800})
    polled = record_polls(page)
    sent: list[dict[str, Any]] = []
    connected: list[tuple[WebSocketRoute, WebSocketRoute]] = []
    hanging: list[WebSocketRoute] = []
    hold = [False]

    def route(ws: WebSocketRoute) -> None:
        if hold[0]:
            hanging.append(ws)  # open to the page, connected to nothing
            return
        upstream = ws.connect_to_server()

        def forward(message: str | bytes) -> None:
            sent.append(json.loads(message))
            upstream.send(message)

        ws.on_message(forward)
        connected.append((ws, upstream))

    page.route_web_socket("**/ws", route)
    page.goto(server.url + "/demo/")
    open_widget(page)
    start_conversation(page, "Where is parcel 1234?")
    expect_live(page)
    rid = open_rid(page)
    agent.reply(rid, "Reply one")
    expect(page.locator(AGENT_REPLIES)).to_have_text(["Reply one"])

    hold[0] = True
    ws, upstream = connected[-1]
    upstream.close(code=1001, reason="server_shutdown")
    ws.close(code=1001, reason="server_shutdown")
    page.wait_for_function("() => window.frontdesk.getConnectionState() !== 'live'")
    page.wait_for_timeout(2000)  # the widget reopens a socket that never authenticates
    assert hanging, "the widget did not reconnect"
    for text in ("Reply two", "Reply three", "Reply four"):
        agent.reply(rid, text)
    sent.clear()
    hold[0] = False
    hanging[-1].close(code=1001, reason="server_shutdown")

    expect_live(page)
    expect(page.locator(AGENT_REPLIES)).to_have_text(
        ["Reply one", "Reply two", "Reply three", "Reply four"]
    )
    subscribes = {f["payload"]["topic"]: f["payload"] for f in sent if f["action"] == "subscribe"}
    resumed = subscribes[f"/{agent.project_id}/requests/{rid}/messages"]
    [first] = [m for m in agent.get(f"/requests/{rid}/messages") if m["text"] == "Reply one"]
    assert resumed["after"] == first["_id"]
    assert polled == []


def test_where_no_socket_opens_the_widget_polls(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    page = new_page(viewport={"width": 1280, "height": 800})
    # A proxy that refuses the upgrade: every socket fails before it opens.
    page.add_init_script(
        "const RealWebSocket = window.WebSocket;"
        "window.WebSocket = function (url) { return new RealWebSocket(url + '-refused'); };"
    )
    polled = record_polls(page)
    page.goto(server.url + "/demo/")
    open_widget(page)
    start_conversation(page, "Hello through a strict proxy")
    expect(page.locator("frontdesk-widget")).to_have_attribute("data-connection", "polling")
    agent.reply(open_rid(page), "Polling works too")
    expect(page.locator(AGENT_REPLIES)).to_have_text(["Polling works too"])
    assert polled


def test_a_project_closed_to_anonymous_visitors_signs_the_open_widget_out(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    page = demo_conversation(server, new_page, "Is the shop open on Sunday?")
    expect_live(page)
    sockets: list[Any] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    policy = f"/projects/{agent.project_id}"
    agent.http.put(policy, json={"settings": {"allow_anonymous": False}}).raise_for_status()
    try:
        # The server closes the anonymous socket with 4403; the widget's one re-sign-in is
        # refused by the new policy, so it signs out instead of reconnecting in a loop.
        page.wait_for_function("() => window.frontdesk.getUser() === null")
        expect(page.locator("frontdesk-widget")).not_to_contain_text("Sunday")
        assert widget_token(page) is None
        page.wait_for_timeout(1500)  # longer than the first reconnect delay
        screenshot(page, "widget-anonymous-closed")
        assert sockets == []
    finally:
        agent.http.put(policy, json={"settings": {"allow_anonymous": True}}).raise_for_status()
