"""The agent dashboard in headless Chromium, against a live demo server.

Visitors are made through the REST API (as the widget would make them); the agent is the
demo agent. Every page visited is saved as a screenshot for a person to look at.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo, screenshot, signed_in_socket
from tests.conftest import sign_customer_token
from tests.live import LiveServer

XSS_NAME = "<img src=x onerror=alert(1)>"
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}

expect.set_options(timeout=10_000)


@dataclass
class RestVisitor:
    api: httpx.Client
    project_id: str
    token: str
    id: str

    def open_conversation(self, text: str) -> str:
        rid = f"support-group-{self.project_id}-{uuid.uuid4().hex}"
        self.say(rid, text)
        return rid

    def say(self, rid: str, text: str) -> None:
        r = self.api.post(f"/{self.project_id}/requests/{rid}/messages", json={"text": text},
                          headers={"Authorization": self.token})
        assert r.status_code == 200, r.text

    def texts(self, rid: str) -> list[str]:
        r = self.api.get(f"/{self.project_id}/requests/{rid}/messages",
                         headers={"Authorization": self.token})
        assert r.status_code == 200, r.text
        return [m["text"] for m in r.json()]


def anonymous_visitor(api: httpx.Client, demo: Demo, **fields: Any) -> RestVisitor:
    r = api.post("/auth/signinAnonymously", json={"id_project": demo.project_id, **fields})
    assert r.status_code == 200, r.text
    return RestVisitor(api, demo.project_id, r.json()["token"], r.json()["user"]["_id"])


def authenticated_visitor(api: httpx.Client, demo: Demo, **claims: Any) -> RestVisitor:
    claims.setdefault("_id", "customer-" + uuid.uuid4().hex[:8])
    token = sign_customer_token(demo.project_id, demo.secret, kid=demo.kid, **claims)
    r = api.post("/auth/signinWithCustomToken", headers={"Authorization": "JWT " + token})
    assert r.status_code == 200, r.text
    return RestVisitor(api, demo.project_id, r.json()["token"], r.json()["user"]["_id"])


def sign_in_merging(
    api: httpx.Client, demo: Demo, anonymous: RestVisitor, **claims: Any
) -> httpx.Response:
    """The customer of ``claims`` signs in from ``anonymous``'s widget, merging it."""
    token = sign_customer_token(demo.project_id, demo.secret, kid=demo.kid, **claims)
    merged = api.post("/auth/signinWithCustomToken", headers={
        "Authorization": "JWT " + token, "X-Frontdesk-Anonymous-Token": anonymous.token})
    assert merged.json()["merge"]["merged"] is True
    return merged


def has_websocket(server: LiveServer) -> bool:
    return any(getattr(route, "path", None) == "/ws" for route in server.app.routes)


def sign_in(page: Page, server: LiveServer, demo: Demo, *, shot: str | None = None) -> None:
    page.goto(f"{server.url}/dashboard/")
    page.get_by_label("Email").fill(demo.email)
    page.get_by_label("Password").fill(demo.password)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()


def watch_dialogs(page: Page) -> list[str]:
    """Collects alert()s: visitor text that ran as script would show up here."""
    seen: list[str] = []

    def dismiss(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return seen


def test_agent_sees_visitors_live_with_shield_and_replies(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    page = new_page(viewport=DESKTOP)
    alerts = watch_dialogs(page)
    sign_in(page, server, demo, shot="sign-in")
    # Live over /ws where the server has it; the dashboard polls where it does not.
    expected_state = "live" if has_websocket(server) else "polling"
    expect(page.locator(".connection")).to_have_attribute("data-state", expected_state)
    expect(page.locator(".conv-list")).to_contain_text("No conversations here yet")
    # Away: new conversations wait in the queue for someone to take them.
    page.locator(".availability").click()
    expect(page.locator(".availability input")).not_to_be_checked()
    page.get_by_role("tab", name=re.compile("Unassigned")).click()

    anonymous = anonymous_visitor(api, demo, firstname=XSS_NAME, email="claims@example.com")
    anonymous_rid = anonymous.open_conversation("hello <b>there</b>")
    item = page.locator(f'.conv-item[data-request-id="{anonymous_rid}"]')
    expect(item.locator(".conv-name")).to_have_text(XSS_NAME)
    expect(item.locator(".conv-last")).to_have_text("hello <b>there</b>")
    expect(item.locator(".shield")).to_have_count(0)
    expect(item.locator(".conv-time")).to_contain_text("waiting")

    jane = authenticated_visitor(api, demo, email="jane@shop.test", firstname="Jane",
                                 lastname="Doe")
    jane_rid = jane.open_conversation("my order is late")
    jane_item = page.locator(f'.conv-item[data-request-id="{jane_rid}"]')
    expect(jane_item.locator(".conv-name")).to_have_text("Jane Doe")
    expect(jane_item.locator(".shield")).to_have_attribute("title", re.compile("Authenticated"))
    expect(jane_item.locator(".unread-badge")).to_have_text("1")
    expect(page.locator('[data-count="unassigned"]')).to_have_text("2")
    page.locator(".segment", has_text="Authenticated").click()
    expect(page.locator(".conv-item")).to_have_count(1)
    page.locator(".segment", has_text="Everyone").click()
    expect(page.locator(".conv-item")).to_have_count(2)
    page.get_by_label("Search conversations").fill("order is late")
    expect(page.locator(".conv-item")).to_have_count(1)
    page.get_by_label("Search conversations").fill("")
    expect(page.locator(".conv-item")).to_have_count(2)
    screenshot(page, "conversation-list")

    jane_item.click()
    panel = page.locator(".inbox-panel")
    expect(panel.locator('[data-claim="email"] dd')).to_have_text("jane@shop.test")
    expect(panel.locator('[data-key="provider"] dd')).to_contain_text("Custom token")
    expect(panel.locator('[data-key="uid"] dd')).to_have_text(jane.id)
    expect(panel.locator('[data-key="kid"] dd')).to_have_text(demo.kid)
    expect(panel.locator('[data-key="alg"] dd')).to_have_text("HS256")
    expect(panel.locator('.field[data-field="email"]')).to_have_attribute("data-source", "token")
    expect(panel.locator(".requester-card .shield")).to_be_visible()
    expect(jane_item.locator(".unread-badge")).to_have_count(0)

    page.get_by_role("button", name="Take").click()
    expect(page.locator(".thread-header .status")).to_have_text("Assigned")
    page.get_by_label("Reply").fill("Hi Jane, let me check that order.")
    page.get_by_label("Reply").press("Enter")
    expect(page.locator(".message.from-agent .bubble")).to_have_text(
        "Hi Jane, let me check that order.")
    assert jane.texts(jane_rid) == ["my order is late", "Hi Jane, let me check that order."]

    jane.say(jane_rid, "Thanks! Order 1234.")
    expect(page.locator(".message.from-visitor .bubble").last).to_have_text("Thanks! Order 1234.")
    screenshot(page, "conversation-view")

    page.get_by_role("button", name="Close", exact=True).click()
    expect(page.locator(".closed-note")).to_be_visible()
    expect(page.get_by_label("Reply")).to_be_hidden()
    page.locator(".thread-actions").get_by_role("button", name="Reopen").click()
    expect(page.get_by_label("Reply")).to_be_visible()

    item.click()
    anonymous_panel = page.locator(".inbox-panel")
    expect(anonymous_panel.locator('[data-key="provider"] dd')).to_have_text("Anonymous")
    expect(anonymous_panel.locator(".requester-name")).to_have_text(XSS_NAME)
    expect(anonymous_panel.locator('.field[data-field="email"] .source')).to_have_text(
        "Self-reported")
    expect(page.locator(".message .bubble").first).to_have_text("hello <b>there</b>")
    assert page.locator("img[src='x'], b").count() == 0
    assert alerts == []


def test_contacts_show_verified_fields_apart_and_erase(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    jane = authenticated_visitor(api, demo, email="jane@shop.test", firstname="Jane",
                                 lastname="Doe")
    jane.open_conversation("where is my parcel?")
    guest = anonymous_visitor(api, demo, firstname=XSS_NAME, email="claims@example.com")
    guest.open_conversation("hi")

    page = new_page(viewport=DESKTOP)
    alerts = watch_dialogs(page)
    sign_in(page, server, demo)
    page.get_by_role("link", name="Contacts").click()
    rows = page.locator(".contact-row")
    expect(rows).to_have_count(2)
    jane_row = page.locator(".contact-row", has_text="Jane Doe")
    expect(jane_row.locator(".shield")).to_be_visible()
    expect(jane_row.locator(".source")).to_have_text("Verified")
    guest_row = page.locator(".contact-row", has_text=XSS_NAME)
    expect(guest_row.locator(".shield")).to_have_count(0)
    expect(guest_row.locator(".source")).to_have_text("Self-reported")
    page.locator(".segment", has_text="Anonymous").click()
    expect(rows).to_have_count(1)
    page.locator(".segment", has_text="Everyone").click()
    page.get_by_label("Search contacts").fill("jane")
    expect(rows).to_have_count(1)
    page.get_by_label("Search contacts").fill("")
    expect(rows).to_have_count(2)
    screenshot(page, "contacts")

    jane_row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Jane Doe")).to_be_visible()
    email_field = page.locator('.field[data-field="email"]')
    expect(email_field).to_have_attribute("data-source", "token")
    expect(email_field.locator(".source-token")).to_have_text("Verified")
    expect(page.locator('.auth-info [data-claim="email"] dd')).to_have_text("jane@shop.test")
    expect(page.locator(".simple-list")).to_contain_text("where is my parcel?")
    page.get_by_role("button", name="Edit self-reported fields").click()
    expect(page.locator(".edit-form input[name=phone]")).to_be_visible()
    expect(page.locator(".edit-form input[name=email]")).to_have_count(0)
    page.locator(".edit-form input[name=phone]").fill("+44 20 7946 0000")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('.field[data-field="phone"] .source')).to_have_text("Edited by an agent")
    screenshot(page, "contact-page")

    page.get_by_role("link", name="Contacts").first.click()
    guest_row.get_by_role("link").click()
    expect(page.locator('.field[data-field="fullname"] .field-value')).to_have_text(XSS_NAME)
    page.get_by_role("button", name="Delete contact…").click()
    expect(page.locator("dialog")).to_contain_text("1 conversation")
    page.get_by_role("button", name="Delete contact and conversations").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Jane Doe")
    assert alerts == []


def test_rotating_the_secret_keeps_authenticated_visitors_signed_in(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    visitor = authenticated_visitor(api, demo, _id="student-7", email="ana@uni.test")
    old_customer_token = sign_customer_token(demo.project_id, demo.secret, kid=demo.kid,
                                             _id="student-8")
    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)
    page.get_by_role("link", name="Settings").click()
    expect(page.locator(f'.keys-table tr[data-kid="{demo.kid}"]')).to_have_attribute(
        "data-state", "active")
    expect(page.locator(".widget-snippet")).to_contain_text(
        f'window.frontdeskSettings={{projectid:"{demo.project_id}"}}')
    expect(page.locator(".widget-snippet")).to_contain_text(f"{server.url}/widget/frontdesk.js")
    expect(page.locator('[data-sample="python"] code')).to_contain_text(
        f"https://tiledesk.com/projects/{demo.project_id}")
    screenshot(page, "settings")

    page.get_by_label("Grace period").select_option(str(24 * 3600))
    expect(page.get_by_label("Grace period")).to_have_value(str(24 * 3600))
    page.get_by_role("button", name="Rotate secret…").click()
    expect(page.locator("dialog")).to_contain_text("1 day")
    page.locator("dialog").get_by_role("button", name="Rotate secret").click()
    new_secret = page.locator(".secret").inner_text()
    assert new_secret and new_secret != demo.secret
    expect(page.locator(f'.keys-table tr[data-kid="{demo.kid}"]')).to_have_attribute(
        "data-state", "grace")
    new_kid = page.locator('.keys-table tr[data-state="active"]').get_attribute("data-kid")
    screenshot(page, "settings-rotated")

    refreshed = api.post("/auth/signinWithCustomToken", headers={"Authorization": visitor.token})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["user"]["_id"] == "student-7"
    old = api.post("/auth/signinWithCustomToken",
                   headers={"Authorization": "JWT " + old_customer_token})
    assert old.status_code == 200, old.text
    new_token = sign_customer_token(demo.project_id, new_secret, kid=new_kid, _id="student-9")
    new = api.post("/auth/signinWithCustomToken", headers={"Authorization": "JWT " + new_token})
    assert new.status_code == 200, new.text

    page.reload()
    expect(page.get_by_role("heading", name="Visitor authentication")).to_be_visible()
    expect(page.locator(".secret")).to_have_count(0)  # shown once only

    # The box is checked at once; the policy holds once the page's PUT is answered.
    with page.expect_response(lambda r: r.request.method == "PUT"
                              and r.url.endswith(f"/projects/{demo.project_id}")) as saved:
        page.get_by_label(re.compile("Authenticated customers only")).check()
    assert saved.value.ok
    expect(page.get_by_label(re.compile("Authenticated customers only"))).to_be_checked()
    refused = api.post("/auth/signinAnonymously", json={"id_project": demo.project_id})
    assert refused.status_code == 403


def test_team_and_tablet_width(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    jane = authenticated_visitor(api, demo, email="jane@shop.test", firstname="Jane",
                                 lastname="Doe")
    rid = jane.open_conversation("can I change my delivery address?")
    for n in range(1, 35):
        jane.say(rid, f"detail {n}")

    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)
    page.locator(f'.conv-item[data-request-id="{rid}"]').click()
    messages = page.locator(".message .bubble")
    expect(messages).to_have_count(30)  # the newest page
    expect(messages.last).to_have_text("detail 34")
    page.locator(".messages").evaluate("element => { element.scrollTop = 0; }")
    expect(messages).to_have_count(35)  # scrolling up brought the older ones
    expect(messages.first).to_have_text("can I change my delivery address?")

    agent_token = page.evaluate("localStorage.getItem('frontdesk.dashboard.token')")
    second = api.post("/projects", json={"name": "Second Shop"},
                      headers={"Authorization": agent_token}).json()
    page.reload()
    page.get_by_label("Project", exact=True).select_option(label="Second Shop")
    expect(page).to_have_url(re.compile(f"/dashboard/{second['_id']}/conversations$"))
    expect(page.locator(".conv-list")).to_contain_text("No conversations here yet")
    page.get_by_label("Project", exact=True).select_option(label="Demo Shop")
    expect(page.locator(f'.conv-item[data-request-id="{rid}"]')).to_be_visible()

    page.get_by_role("link", name="Team").click()
    expect(page.locator('tr[data-member="agent@demo.frontdesk.test"]')).to_contain_text("owner")
    page.get_by_label("Email to invite").fill("sam@shop.test")
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator(".form-note")).to_contain_text("sam@shop.test")
    expect(page.get_by_label("Invitation link")).to_have_value(
        re.compile(r"/dashboard/invitation#[\w-]{40,}$"))
    expect(page.locator(".simple-list")).to_contain_text("sam@shop.test")
    screenshot(page, "team")

    page.set_viewport_size(TABLET)
    page.get_by_role("link", name="Conversations").click()
    item = page.locator(f'.conv-item[data-request-id="{rid}"]')
    expect(item.locator(".shield")).to_be_visible()
    screenshot(page, "tablet-conversation-list")
    item.click()
    expect(page.locator(".conv-list")).to_be_hidden()
    expect(page.locator(".message .bubble").last).to_have_text("detail 34")
    page.get_by_role("button", name="Details").click()
    expect(page.locator('.inbox-panel [data-claim="email"] dd')).to_be_in_viewport()
    screenshot(page, "tablet-conversation-details")
    page.get_by_role("button", name="Close details").click()
    expect(page.locator(".inbox-panel")).not_to_be_in_viewport()
    page.get_by_role("button", name="Back to the list").click()
    expect(item).to_be_visible()
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Visitor authentication")).to_be_visible()
    screenshot(page, "tablet-settings")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to your inbox")).to_be_visible()
    revoked = api.get("/projects", headers={"Authorization": agent_token})
    assert revoked.status_code == 401


def test_an_invited_teammate_joins_with_the_link_and_a_withdrawn_link_fails(
    server: LiveServer, demo: Demo, new_page: Any
) -> None:
    admin = new_page(viewport=DESKTOP)
    sign_in(admin, server, demo)
    admin.get_by_role("link", name="Team").click()

    def invite(email: str) -> str:
        admin.get_by_label("Email to invite").fill(email)
        admin.get_by_role("button", name="Invite").click()
        expect(admin.locator(".form-note")).to_contain_text(email)
        link: str = admin.get_by_label("Invitation link").input_value()
        return link

    withdrawn_link = invite("gone@shop.test")
    admin.get_by_role("button", name="Withdraw the invitation of gone@shop.test").click()
    expect(admin.locator('[data-invitation="gone@shop.test"]')).to_have_count(0)
    link = invite("sam@shop.test")
    expect(admin.locator('[data-invitation="sam@shop.test"]')).to_contain_text("agent")
    screenshot(admin, "team-invitation-link")

    sam = new_page(viewport=DESKTOP)
    sam.goto(withdrawn_link)
    sam.get_by_role("button", name="Create an account").click()
    sam.get_by_label("First name").fill("Sam")
    sam.get_by_label("Email (the invited address)").fill("gone@shop.test")
    sam.get_by_label("Password").fill("sam's long password")
    sam.get_by_role("button", name="Create account and join").click()
    expect(sam.get_by_role("alert")).to_contain_text("not valid any more")

    sam.goto(link)
    expect(sam.get_by_role("heading", name="You are invited to a team")).to_be_visible()
    sam.get_by_role("button", name="Use another account").click()
    sam.get_by_role("button", name="Create an account").click()
    sam.get_by_label("First name").fill("Sam")
    sam.get_by_label("Last name").fill("Shop")
    sam.get_by_label("Email (the invited address)").fill("sam@shop.test")
    sam.get_by_label("Password").fill("sam's long password")
    screenshot(sam, "invitation-signup")
    sam.get_by_role("button", name="Create account and join").click()
    expect(sam).to_have_url(re.compile(f"/dashboard/{demo.project_id}/conversations$"))
    expect(sam.get_by_role("heading", name="Conversations")).to_be_visible()

    admin.reload()
    expect(admin.locator('tr[data-member="sam@shop.test"]')).to_contain_text("agent")
    expect(admin.locator('[data-invitation="sam@shop.test"]')).to_have_count(0)
    sam.goto(link)  # the link worked once
    sam.get_by_role("button", name="Accept invitation").click()
    expect(sam.get_by_role("alert")).to_contain_text("not valid any more")


def test_a_widget_visitor_and_the_agent_talk_live(
    server: LiveServer, demo: Demo, new_page: Any
) -> None:
    agent_page = new_page(viewport=DESKTOP)
    sign_in(agent_page, server, demo)

    visitor_page = new_page(viewport=DESKTOP)
    visitor_page.goto(f"{server.url}/demo/")
    visitor_page.get_by_role("button", name="Log in").click()
    visitor_page.wait_for_function("() => window.frontdesk.getUser()?.isAuthenticated === true")
    email = visitor_page.evaluate("window.frontdesk.getUser().email")
    visitor_page.get_by_role("button", name="Open chat").click()
    visitor_page.get_by_role("button", name="New conversation").first.click()
    box = visitor_page.get_by_role("textbox", name="Message")
    box.fill("Hello from the shop, I'm logged in")
    box.press("Enter")

    item = agent_page.locator(".conv-item", has_text="Hello from the shop")
    expect(item.locator(".shield")).to_be_visible()
    item.click()
    expect(agent_page.locator('.inbox-panel [data-claim="email"] dd')).to_have_text(email)
    agent_page.get_by_label("Reply").fill("Welcome back! How can I help?")
    agent_page.get_by_label("Reply").press("Enter")

    reply = visitor_page.locator("frontdesk-widget .msg:not(.mine)").filter(
        has_text="Welcome back! How can I help?")
    expect(reply).to_be_visible()
    screenshot(visitor_page, "widget-receives-agent-reply")


def test_typing_shows_both_ways_over_the_socket(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    if not has_websocket(server):
        pytest.skip("this build has no /ws endpoint: typing indicators need the socket")
    jane = authenticated_visitor(api, demo, email="jane@shop.test", firstname="Jane",
                                 lastname="Doe")
    rid = jane.open_conversation("are you there?")
    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)
    expect(page.locator(".connection")).to_have_attribute("data-state", "live")
    page.locator(f'.conv-item[data-request-id="{rid}"]').click()
    expect(page.locator(".message .bubble")).to_have_text("are you there?")

    topic = f"/{demo.project_id}/requests/{rid}"
    with signed_in_socket(server, jane.token, topic) as frames:
        frames.send("typing", topic=topic, typing=True)
        expect(page.locator(".typing")).to_have_text("Jane Doe is typing…")

        page.get_by_label("Reply").press_sequentially("On it")
        typing = frames.wait_for("typing")
        assert typing["typing"] is True and typing["fullname"] == "Demo Agent"
        page.get_by_label("Reply").press("Enter")
        assert frames.wait_for("typing")["typing"] is False

        frames.send("typing", topic=topic, typing=False)
        expect(page.locator(".typing")).to_be_hidden()




def test_contact_sessions_merges_and_the_audit_log(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    anonymous = anonymous_visitor(api, demo)
    anonymous.open_conversation("asked before logging in")
    sign_in_merging(api, demo, anonymous, _id="kim", firstname="Kim", email="kim@shop.test")
    second = authenticated_visitor(api, demo, _id="kim", firstname="Kim", email="kim@shop.test")
    forged = sign_customer_token(demo.project_id, "guessed-" + "x" * 60, _id="kim")
    for _ in range(3):
        api.post("/auth/signinWithCustomToken", headers={"Authorization": "JWT " + forged})

    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)
    page.get_by_role("link", name="Contacts").click()
    page.locator(".contact-row", has_text="Kim").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Kim")).to_be_visible()
    expect(page.locator('.field[data-field="email"] .field-time')).to_have_text("just now")
    expect(page.locator(".session-row")).to_have_count(2)
    expect(page.locator(".merge-row")).to_contain_text(
        f"merged from anonymous visitor {anonymous.id}")
    expect(page.locator(".simple-list").first).to_contain_text("asked before logging in")
    screenshot(page, "contact-identity")

    page.get_by_role("button", name="Log out everywhere (2 sessions)").click()
    expect(page.locator(".session-none")).to_be_visible()
    refused = api.post("/auth/signinWithCustomToken", headers={"Authorization": second.token})
    assert refused.json()["code"] == "session_revoked"
    page.get_by_role("button", name="Undo merge").click()
    expect(page.locator(".merge-row .pill")).to_contain_text("Undone")

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator('.audit-row[data-type="merge.reverted"]')).to_have_count(1)
    page.get_by_label("Event type").select_option("signin.failed")
    expect(page.locator(".audit-row")).to_have_count(1)
    expect(page.locator(".audit-row")).to_contain_text("refused: bad_signature \u00d73")
    screenshot(page, "audit-log")


def test_a_customer_named_support_team_is_drawn_as_the_visitor(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    # A merged conversation holds messages of two visitor ids (the anonymous one, then the
    # signed-in one); the side of each comes from the server's record, not from a name.
    anonymous = anonymous_visitor(api, demo)
    rid = anonymous.open_conversation("asked as a guest")
    merged = sign_in_merging(api, demo, anonymous, _id="lou", firstname="Support Team")
    customer = RestVisitor(api, demo.project_id, merged.json()["token"], "lou")
    customer.say(rid, "signed in now, still waiting")
    agent = api.post("/auth/signin", json={"email": demo.email, "password": demo.password})
    reply = api.post(f"/{demo.project_id}/requests/{rid}/messages", json={"text": "Real reply"},
                     headers={"Authorization": agent.json()["token"]})
    assert reply.status_code == 200, reply.text

    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)
    page.locator(f'.conv-item[data-request-id="{rid}"]').click()
    expect(page.locator(".message.from-agent .bubble")).to_have_text(["Real reply"])
    expect(page.locator(".message.from-visitor .bubble")).to_have_text(
        ["asked as a guest", "signed in now, still waiting"])
    expect(page.locator(".message.from-visitor .message-meta").last).to_contain_text(
        "Support Team")
    screenshot(page, "merged-conversation-sides")


def test_a_merge_whose_anonymous_contact_was_erased_stays_on_the_contact(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    anonymous = anonymous_visitor(api, demo)
    anonymous.open_conversation("asked before the erasure")
    sign_in_merging(api, demo, anonymous, _id="max", firstname="Max")
    agent = api.post("/auth/signin", json={"email": demo.email, "password": demo.password})
    erased = api.delete(f"/{demo.project_id}/leads/{anonymous.id}",
                        headers={"Authorization": agent.json()["token"]})
    assert erased.status_code == 200, erased.text

    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)
    page.get_by_role("link", name="Contacts").click()
    page.locator(".contact-row", has_text="Max").get_by_role("link").click()
    row = page.locator(".merge-row")
    expect(row).to_contain_text(f"merged from anonymous visitor {anonymous.id}")
    expect(row.locator(".pill")).to_have_text("Anonymous erased")
    expect(row.locator(".pill")).to_have_attribute("title", re.compile("can no longer be undone"))
    expect(page.get_by_role("button", name="Undo merge")).to_have_count(0)
    expect(page.locator(".simple-list").first).to_contain_text("asked before the erasure")
    row.scroll_into_view_if_needed()
    screenshot(page, "contact-merge-after-erasure")
