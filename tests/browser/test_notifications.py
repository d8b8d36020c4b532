"""Notifications and server-side unread counts in headless Chromium, against a live server.

A page is made hidden by an init script (``document.visibilityState``), which also counts
every ``Notification`` constructed and every tone started, so a test sees exactly what an
agent would have been shown and heard.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import screenshot
from tests.live import LiveServer

expect.set_options(timeout=10_000)

SPY = """
window.__notes = [];
window.__tones = 0;
window.__hidden = false;
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true, get() { return window.__hidden ? "hidden" : "visible"; } });
Object.defineProperty(Document.prototype, "hidden", {
  configurable: true, get() { return window.__hidden; } });
const RealNotification = window.Notification;
class SpyNotification extends RealNotification {
  constructor(title, options) {
    window.__notes.push({ title, body: options && options.body });
    super(title, options);
  }
}
Object.defineProperty(SpyNotification, "permission", { get: () => RealNotification.permission });
SpyNotification.requestPermission = (...a) => RealNotification.requestPermission(...a);
window.Notification = SpyNotification;
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...a) {
  window.__tones += 1;
  return realStart.apply(this, a);
};
window.__setHidden = (hidden) => {
  window.__hidden = hidden;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


@dataclass
class Account:
    email: str
    password: str
    token: str
    id: str


class Rest:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": token} if token else {}
        r = self.client.request(method, path, headers=headers, **kw)
        assert r.status_code == 200, r.text
        return r.json()

    def agent(self) -> Account:
        email = f"agent-{uuid.uuid4().hex[:8]}@example.com"
        creds = {"email": email, "password": "correct horse 1"}
        self.call("POST", "/auth/signup", json={**creds, "firstname": "Ada", "lastname": "L"})
        body = self.call("POST", "/auth/signin", json=creds)
        return Account(email, creds["password"], body["token"], body["user"]["_id"])

    def team(self) -> tuple[Account, Account, str]:
        """Two agents of a new project (the first its owner), and the project's id."""
        owner, other = self.agent(), self.agent()
        pid = self.call("POST", "/projects", owner.token, json={"name": "Acme"})["_id"]
        invited = self.call("POST", f"/{pid}/project_users/invite", owner.token,
                            json={"email": other.email})
        self.call("POST", "/auth/invitations/accept", other.token,
                  json={"token": invited["token"]})
        return owner, other, pid

    def visitor(self, pid: str) -> str:
        token: str = self.call("POST", "/auth/signinAnonymously", json={"id_project": pid})["token"]
        return token

    def say(self, pid: str, token: str, rid: str, text: str, **body: Any) -> None:
        self.call("POST", f"/{pid}/requests/{rid}/messages", token, json={"text": text, **body})


@pytest.fixture
def rest(server: LiveServer) -> Iterator[Rest]:
    with httpx.Client(base_url=server.url) as client:
        yield Rest(client)


def sign_in(page: Page, server: LiveServer, account: Account) -> None:
    page.goto(f"{server.url}/dashboard/")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()


def open_dashboard(new_page: Any, server: LiveServer, account: Account, pid: str) -> Page:
    page: Page = new_page(permissions=["notifications"], viewport={"width": 1280, "height": 800})
    page.add_init_script(SPY)
    sign_in(page, server, account)
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    assert f"/dashboard/{pid}/" in page.url
    expect(page.locator(".connection[data-state='live']")).to_be_visible()
    return page


def wait_for_notes(page: Page, count: int, timeout: float = 10) -> None:
    # Polled from here: the dashboard's Content-Security-Policy forbids the eval that
    # page.wait_for_function would use.
    deadline = time.monotonic() + timeout
    while len(notes(page)) < count:
        assert time.monotonic() < deadline, f"{count} notification(s) expected: {notes(page)}"
        time.sleep(0.05)


def notes(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("window.__notes")
    return found


def test_a_hidden_dashboard_notifies_once_and_only_whom_it_concerns(
    new_page: Any, server: LiveServer, rest: Rest
) -> None:
    owner, other, pid = rest.team()
    sales = rest.call("POST", f"/{pid}/departments", owner.token,
                      json={"name": "Sales", "agents": [owner.id]})["_id"]
    billing = rest.call("POST", f"/{pid}/departments", owner.token,
                        json={"name": "Billing", "agents": [other.id]})["_id"]
    for who in (owner, other):  # nobody available: new conversations wait in the queue
        rest.call("PUT", f"/{pid}/project_users", who.token, json={"user_available": False})

    mine = open_dashboard(new_page, server, owner, pid)
    theirs = open_dashboard(new_page, server, other, pid)
    for page in (mine, theirs):
        page.evaluate("window.__setHidden(true)")

    visitor = rest.visitor(pid)
    rid = f"support-group-{pid}-{uuid.uuid4().hex}"
    rest.say(pid, visitor, rid, "Hello, a question about prices", departmentid=sales)
    wait_for_notes(mine, 1)
    time.sleep(1.0)  # anything more would have arrived by now
    assert len(notes(mine)) == 1
    assert notes(mine)[0]["title"].startswith("New conversation waiting: guest#")
    assert notes(mine)[0]["body"] == "Hello, a question about prices"
    assert mine.evaluate("window.__tones") == 1
    assert mine.title().startswith("(1) ")
    # The other agent is not in Sales: nothing for it.
    assert notes(theirs) == [] and theirs.evaluate("window.__tones") == 0
    assert not theirs.title().startswith("(")

    # Billing's conversation is the other agent's to take, not this one's.
    rid2 = f"support-group-{pid}-{uuid.uuid4().hex}"
    rest.say(pid, visitor, rid2, "My invoice is wrong", departmentid=billing)
    wait_for_notes(theirs, 1)
    time.sleep(1.0)
    assert len(notes(theirs)) == 1 and len(notes(mine)) == 1

    # A visitor's message in a conversation of one's own notifies; a second message too.
    rest.call("PUT", f"/{pid}/requests/{rid}/assign", owner.token, json={"id_agent": owner.id})
    rest.say(pid, visitor, rid, "Are you there?")
    wait_for_notes(mine, 2)
    time.sleep(0.5)
    assert [n["body"] for n in notes(mine)] == ["Hello, a question about prices", "Are you there?"]
    assert len(notes(theirs)) == 1  # not its conversation
    assert mine.title().startswith("(2) ")

    # Visible again: the title count goes; nothing is raised while the agent is looking.
    mine.evaluate("window.__setHidden(false)")
    expect(mine).not_to_have_title(re.compile(r"^\(\d+\) "))
    rest.say(pid, visitor, rid, "Hello?")
    time.sleep(1.0)
    assert len(notes(mine)) == 2
    screenshot(mine, "notifications-owner")


def test_choices_turned_off_are_kept_on_the_server(
    new_page: Any, server: LiveServer, rest: Rest
) -> None:
    owner = rest.agent()
    pid = rest.call("POST", "/projects", owner.token, json={"name": "Acme"})["_id"]
    page = open_dashboard(new_page, server, owner, pid)
    page.get_by_role("button", name="Notifications").click()
    panel = page.get_by_role("group", name="Notifications")
    expect(panel).to_be_visible()
    screenshot(page, "notifications-menu")
    panel.get_by_label("Sound").uncheck()
    expect(page.locator("[data-notify='sound']")).not_to_be_checked()
    page.wait_for_timeout(300)
    prefs = rest.call("GET", f"/{pid}/project_users/me/notifications", owner.token)
    assert prefs == {"desktop": True, "sound": False, "title": True}

    page.reload()
    expect(page.locator(".connection[data-state='live']")).to_be_visible()
    page.evaluate("window.__setHidden(true)")
    visitor = rest.visitor(pid)
    rest.say(pid, visitor, f"support-group-{pid}-{uuid.uuid4().hex}", "hi")
    wait_for_notes(page, 1)
    time.sleep(0.5)
    assert len(notes(page)) == 1 and page.evaluate("window.__tones") == 0


def two_unread_messages(rest: Rest) -> tuple[Account, str, str, str]:
    """An agent, its new project and a visitor's conversation there with two messages:
    (agent, project id, visitor token, request id)."""
    owner = rest.agent()
    pid = rest.call("POST", "/projects", owner.token, json={"name": "Acme"})["_id"]
    visitor = rest.visitor(pid)
    rid = f"support-group-{pid}-{uuid.uuid4().hex}"
    rest.say(pid, visitor, rid, "first")
    rest.say(pid, visitor, rid, "second")
    return owner, pid, visitor, rid


def test_unread_counts_agree_across_two_browsers_of_one_agent(
    new_page: Any, server: LiveServer, rest: Rest
) -> None:
    owner, pid, visitor, rid = two_unread_messages(rest)
    first = open_dashboard(new_page, server, owner, pid)
    second = open_dashboard(new_page, server, owner, pid)
    item = f".conv-item[data-request-id='{rid}'] .unread-badge"
    for page in (first, second):
        expect(page.locator(item)).to_have_text("2")
    screenshot(second, "unread-before-reading")

    first.locator(f".conv-item[data-request-id='{rid}']").click()
    expect(first.locator(".thread")).to_contain_text("second")
    expect(first.locator(item)).to_have_count(0)
    expect(second.locator(item)).to_have_count(0)  # the other browser follows, no reload

    # The first browser keeps it open but hidden: what arrives now is unread everywhere.
    first.evaluate("window.__setHidden(true)")
    rest.say(pid, visitor, rid, "third")
    expect(second.locator(item)).to_have_text("1")
    expect(first.locator(item)).to_have_text("1")
    second.reload()
    expect(second.locator(item)).to_have_text("1")
    # Shown again, the open conversation is read, in both browsers.
    first.evaluate("window.__setHidden(false)")
    expect(first.locator(item)).to_have_count(0)
    expect(second.locator(item)).to_have_count(0)
    screenshot(second, "unread-after-reading")


def test_a_read_before_a_subscription_takes_effect_still_reaches_the_other_browser(
    new_page: Any, server: LiveServer, rest: Rest
) -> None:
    """The second browser's subscribe to the agent's own topic is held on its way to the
    server while the first browser reads the conversation: that marker's event reaches no
    socket of the second, which must fetch the count again once the server acknowledges."""
    owner, pid, _, rid = two_unread_messages(rest)
    first = open_dashboard(new_page, server, owner, pid)

    held: list[tuple[Any, str | bytes]] = []
    acknowledged: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        upstream = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            frame = json.loads(message)
            topic = frame.get("payload", {}).get("topic", "")
            if frame["action"] == "subscribe" and "/project_users/" in topic:
                held.append((upstream, message))
            else:
                upstream.send(message)

        def to_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["action"] == "subscribed":
                acknowledged.append(frame["payload"]["topic"])
            ws.send(message)

        ws.on_message(to_server)
        upstream.on_message(to_page)

    lists: list[str] = []
    page: Page = new_page(permissions=["notifications"], viewport={"width": 1280, "height": 800})
    page.on("response", lambda r: lists.append(r.url) if "limit=50" in r.url else None)
    page.route_web_socket("**/ws", route)
    sign_in(page, server, owner)
    item = f".conv-item[data-request-id='{rid}'] .unread-badge"
    expect(page.locator(item)).to_have_text("2")
    # The conversations' topic went through: its snapshot reloads the list, before the read.
    deadline = time.monotonic() + 10
    while f"/{pid}/requests" not in acknowledged or len(lists) < 2:
        assert time.monotonic() < deadline, (acknowledged, lists)
        page.wait_for_timeout(50)
    assert held, "the dashboard did not subscribe to the agent's own topic"
    loads = len(lists)

    with first.expect_response(lambda r: r.url.endswith("/read")) as marked:
        first.locator(f".conv-item[data-request-id='{rid}']").click()
    assert marked.value.ok
    expect(first.locator(item)).to_have_count(0)
    page.wait_for_timeout(300)
    expect(page.locator(item)).to_have_text("2")  # nothing told this browser yet
    assert len(lists) == loads

    for upstream, message in held:
        upstream.send(message)
    expect(page.locator(item)).to_have_count(0)
    assert len(lists) > loads
    screenshot(page, "unread-after-late-subscription")


def test_a_list_read_before_the_marker_moved_does_not_bring_the_count_back(
    new_page: Any, server: LiveServer, rest: Rest
) -> None:
    """Opening a conversation marks it read and reloads the list once its topics are
    subscribed. Here the marker's request is held, so the list is read before the marker
    moves: the page keeps the count it marked, then the one the marker's answer gives."""
    owner, pid, _, rid = two_unread_messages(rest)
    page = open_dashboard(new_page, server, owner, pid)
    item = f".conv-item[data-request-id='{rid}'] .unread-badge"
    expect(page.locator(item)).to_have_text("2")

    held: list[Any] = []
    page.route("**/read", lambda route: held.append(route))
    with page.expect_response(lambda r: "limit=50" in r.url) as listed:
        page.locator(f".conv-item[data-request-id='{rid}']").click()
    [row] = [r for r in listed.value.json()["requests"] if r["request_id"] == rid]
    assert row["unread"] == 2  # read on the server before the marker moved
    assert len(held) == 1
    page.wait_for_timeout(300)  # the page has that list
    expect(page.locator(item)).to_have_count(0)

    with page.expect_response(lambda r: r.url.endswith("/read")) as marked:
        held[0].continue_()
    assert marked.value.json()["unread"] == 0
    expect(page.locator(item)).to_have_count(0)
    expect(page.locator(".thread")).to_contain_text("second")


def test_the_dashboard_asks_before_it_notifies_and_team_edits_the_maximum(
    new_page: Any, server: LiveServer, rest: Rest
) -> None:
    owner, other, pid = rest.team()
    page: Page = new_page(viewport={"width": 1280, "height": 800})  # no permission given yet
    sign_in(page, server, owner)
    prompt = page.get_by_role("region", name="Desktop notifications")
    expect(prompt).to_be_visible()
    expect(prompt.get_by_role("button", name="Allow", exact=True)).to_be_visible()
    screenshot(page, "notifications-prompt")
    prompt.get_by_role("button", name="Not now").click()
    expect(prompt).to_be_hidden()

    page.get_by_role("link", name="Team").click()
    field = page.get_by_label("Most open conversations for Ada L").nth(1)  # the member's row
    expect(field).to_have_value("")
    field.fill("2")
    field.press("Tab")
    members = lambda: rest.call("GET", f"/{pid}/project_users", owner.token)  # noqa: E731
    deadline = time.monotonic() + 10
    while not any(m["id_user"]["_id"] == other.id and m["max_assigned_chat"] == 2
                  for m in members()):
        assert time.monotonic() < deadline, "the maximum was not saved"
        time.sleep(0.1)
    screenshot(page, "team-max-chats")
    page.reload()
    expect(page.get_by_label("Most open conversations for Ada L").nth(1)).to_have_value("2")


def test_a_mention_notifies_as_the_agent_chose(
    new_page: Any, server: LiveServer, rest: Rest
) -> None:
    owner, other, pid = rest.team()  # both "Ada L": the author of a note is never named
    for who in (owner, other):  # the conversation waits in the queue: no message notifies
        rest.call("PUT", f"/{pid}/project_users", who.token, json={"user_available": False})
    rid = f"support-group-{pid}-{uuid.uuid4().hex}"
    rest.say(pid, rest.visitor(pid), rid, "hello")
    page = open_dashboard(new_page, server, owner, pid)
    expect(page.locator(f".conv-item[data-request-id='{rid}']")).to_be_visible()
    page.evaluate("window.__setHidden(true)")

    rest.call("POST", f"/{pid}/requests/{rid}/notes", other.token,
              json={"text": "@Ada L can you call her back?"})
    wait_for_notes(page, 1)
    assert notes(page) == [
        {"title": "Ada L mentioned you", "body": "@Ada L can you call her back?"}
    ]
    assert page.evaluate("window.__tones") == 1
    assert page.title().startswith("(1) ")
    expect(page.locator(".mention-toast")).to_contain_text("Ada L mentioned you in a private note")

    # Desktop notifications and sound turned off: the toast and the title count only.
    rest.call("PUT", f"/{pid}/project_users/me/notifications", owner.token,
              json={"desktop": False, "sound": False})
    page.reload()
    expect(page.locator(".connection[data-state='live']")).to_be_visible()
    page.evaluate("window.__setHidden(true)")
    rest.call("POST", f"/{pid}/requests/{rid}/notes", other.token,
              json={"text": "@Ada L and again"})
    expect(page.locator(".mention-toast")).to_contain_text("and again")
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    time.sleep(0.5)
    assert notes(page) == [] and page.evaluate("window.__tones") == 0
    screenshot(page, "mention-toast-notifications-off")


def test_a_catch_up_that_brings_nothing_new_keeps_the_menu_the_agent_opened(
    new_page: Any, server: LiveServer, rest: Rest
) -> None:
    """Once the server acknowledges an opened conversation's topics, the page fetches the
    conversation again. Here that subscribe is held while the agent opens "Ask to verify";
    the conversation then comes back unchanged, and the header is not drawn again, so the
    menu stays open (it is the same element)."""
    owner, pid, _, rid = two_unread_messages(rest)
    topic = f"/{pid}/requests/{rid}"
    held: list[tuple[Any, str | bytes]] = []

    def route(ws: WebSocketRoute) -> None:
        upstream = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["action"] == "subscribe" and frame["payload"].get("topic") == topic:
                held.append((upstream, message))
            else:
                upstream.send(message)

        ws.on_message(to_server)
        upstream.on_message(ws.send)

    page: Page = new_page(viewport={"width": 1280, "height": 800})
    page.route_web_socket("**/ws", route)
    sign_in(page, server, owner)
    expect(page.locator(".connection[data-state='live']")).to_be_visible()
    page.locator(f".conv-item[data-request-id='{rid}']").click()
    header = page.locator(".thread-header")
    header.get_by_text("Ask to verify").click()
    menu = header.locator("details.ask-verify")
    expect(menu).to_have_attribute("open", "")
    menu.evaluate("element => { element.dataset.mark = 'opened by the agent'; }")
    deadline = time.monotonic() + 10
    while not held:
        assert time.monotonic() < deadline, "the dashboard did not subscribe to the conversation"
        page.wait_for_timeout(50)

    def fetched_again(response: Any) -> bool:
        return response.request.method == "GET" and urlsplit(response.url).path.endswith(topic)

    with page.expect_response(fetched_again) as fetched:
        for upstream, message in held:
            upstream.send(message)
    assert fetched.value.ok
    page.wait_for_timeout(300)  # time for the answer to reach the view
    kept = header.locator("details.ask-verify[data-mark='opened by the agent']")
    expect(kept).to_have_count(1)
    expect(kept).to_have_attribute("open", "")
    screenshot(page, "thread-menu-kept-after-catch-up")
