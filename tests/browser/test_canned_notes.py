"""The agent's workspace in headless Chromium: canned responses (the manager, and "/" in the
reply box), private notes drawn as notes in the thread, and an @mention's toast."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Demo, screenshot, signed_in_socket
from tests.browser.test_dashboard import (
    DESKTOP,
    anonymous_visitor,
    authenticated_visitor,
    sign_in,
)
from tests.live import LiveServer

NOTE = "Refund approved by finance — do not tell the customer yet"


def _agent_token(api: httpx.Client, email: str, password: str) -> str:
    r = api.post("/auth/signin", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def _colleague(api: httpx.Client, demo: Demo, owner: str) -> str:
    """A second agent of the demo project, signed in: its token."""
    email, password = "grace@frontdesk.test", "correct horse 1"
    assert api.post("/auth/signup", json={"email": email, "password": password,
                                          "firstname": "Grace", "lastname": "Hopper"}
                    ).status_code == 200
    token = _agent_token(api, email, password)
    invited = api.post(f"/{demo.project_id}/project_users/invite",
                       json={"email": email, "role": "agent"}, headers={"Authorization": owner})
    assert invited.status_code == 200, invited.text
    accepted = api.post("/auth/invitations/accept", json={"token": invited.json()["token"]},
                        headers={"Authorization": token})
    assert accepted.status_code == 200, accepted.text
    return token


def test_canned_responses_and_private_notes_in_the_dashboard(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any,
) -> None:
    owner = _agent_token(api, demo.email, demo.password)
    pid = demo.project_id
    shared = api.post(f"/{pid}/canned", headers={"Authorization": owner}, json={
        "title": "Refund policy", "text": "Refunds take 5 working days.", "shared": True})
    assert shared.status_code == 200, shared.text
    jane = authenticated_visitor(api, demo, email="jane@shop.test", firstname="Jane",
                                 lastname="Doe")
    rid = jane.open_conversation("Where is my refund?")

    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)

    # The manager: write a response with placeholders.
    page.get_by_role("link", name="Canned responses").click()
    expect(page.get_by_role("heading", name="Canned responses")).to_be_visible()
    page.get_by_role("textbox", name="Title").fill("Greeting")
    page.get_by_label("Text").fill(
        "Hello {{visitor.firstname}}, {{agent.firstname}} here. "
        "We will write to {{visitor.email|verified}}."
    )
    page.get_by_role("button", name="Add").click()
    greeting = page.locator(".canned-item", has_text="Greeting")
    expect(greeting.locator(".pill")).to_have_text("Yours")
    expect(page.locator(".canned-item", has_text="Refund policy").locator(".pill")
           ).to_have_text("Shared")
    screenshot(page, "canned-manager")

    # "/" in the reply box: filtered as typed, Esc closes, Enter inserts it filled in.
    page.goto(f"{server.url}/dashboard/{pid}/conversations/{rid}")
    reply = page.get_by_label("Reply")
    expect(reply).to_be_visible()
    reply.press_sequentially("/")
    picker = page.locator(".canned-picker")
    expect(picker.locator(".canned-option")).to_have_count(2)
    expect(picker.locator(".canned-option.is-active")).to_contain_text("Greeting")
    reply.press("ArrowDown")
    expect(picker.locator(".canned-option.is-active")).to_contain_text("Refund policy")
    reply.press("ArrowDown")
    expect(picker.locator(".canned-option.is-active")).to_contain_text("Greeting")
    reply.press_sequentially("gre")
    expect(picker.locator(".canned-option")).to_have_count(1)
    screenshot(page, "canned-picker")
    reply.press("Escape")
    expect(picker).to_be_hidden()
    reply.press("Backspace")
    expect(picker.locator(".canned-option")).to_have_count(1)
    reply.press("Enter")
    expect(reply).to_have_value(
        "Hello Jane, Demo here. We will write to jane@shop.test.")
    reply.press("Enter")
    expect(page.locator(".message.from-agent .bubble")).to_have_text(
        "Hello Jane, Demo here. We will write to jane@shop.test.")
    assert jane.texts(rid)[-1] == "Hello Jane, Demo here. We will write to jane@shop.test."

    # A private note: drawn as a note, never sent to the visitor.
    page.get_by_role("button", name="Note").click()
    reply.fill(NOTE)
    reply.press("Enter")
    note = page.locator(".message.note")
    expect(note.locator(".note-label")).to_have_text("Private note")
    expect(note.locator(".bubble")).to_have_text(NOTE)
    expect(note.locator(".message-meta")).to_contain_text("Demo Agent")
    assert NOTE not in " ".join(jane.texts(rid))
    seen = api.get(f"/{pid}/requests/{rid}", headers={"Authorization": jane.token})
    assert NOTE not in seen.text

    # A colleague's @mention of this agent: a toast, and the note appears live in the thread.
    colleague = _colleague(api, demo, owner)
    page.wait_for_timeout(500)  # the dashboard subscribes to its member topic at start
    mentioned = api.post(f"/{pid}/requests/{rid}/notes", headers={"Authorization": colleague},
                         json={"text": "@Demo can you call her back?"})
    assert mentioned.status_code == 200, mentioned.text
    toast = page.locator(".mention-toast")
    expect(toast).to_contain_text("Grace Hopper mentioned you in a private note")
    expect(toast).to_contain_text("@Demo can you call her back?")
    expect(page.locator(".message.note")).to_have_count(2)
    expect(page.locator(".message.note .message-meta").last).to_contain_text("Grace Hopper")
    screenshot(page, "private-notes")

    # An anonymous visitor's e-mail is not verified: left as written, and the agent is told.
    # The responses arrive late on this page: "/greet" and Enter typed before they do still
    # insert the response, and nothing is sent as a reply.
    anonymous = anonymous_visitor(api, demo, firstname="Sam", email="sam@example.com")
    other = anonymous.open_conversation("hi")
    page.add_init_script("""
        const fetchNow = window.fetch;
        window.fetch = (url, init) => String(url).endsWith("/canned")
          ? new Promise((done) => setTimeout(done, 800)).then(() => fetchNow(url, init))
          : fetchNow(url, init);
    """)
    page.goto(f"{server.url}/dashboard/{pid}/conversations/{other}")
    reply = page.get_by_label("Reply")
    reply.press_sequentially("/greet")
    reply.press("Enter")
    expect(reply).to_have_value(
        "Hello Sam, Demo here. We will write to {{visitor.email|verified}}.")
    assert anonymous.texts(other) == ["hi"]
    expect(page.locator(".canned-hint")).to_contain_text("visitor.email|verified")
    screenshot(page, "canned-unfilled")

    page.goto(f"{server.url}/dashboard/{pid}/conversations/{rid}")
    note = page.locator(".message.note")
    # Its author deletes its own note.
    note.first.get_by_role("button", name="Delete").click()
    expect(page.locator(".message.note")).to_have_count(1)
    expect(page.locator(".message.note .bubble")).to_have_text(re.compile("call her back"))


def test_the_visitor_hears_nothing_of_a_note_being_written(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any,
) -> None:
    jane = authenticated_visitor(api, demo, email="jane@shop.test", firstname="Jane")
    rid = jane.open_conversation("are you there?")
    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)
    expect(page.locator(".connection")).to_have_attribute("data-state", "live")
    page.goto(f"{server.url}/dashboard/{demo.project_id}/conversations/{rid}")
    expect(page.locator(".message .bubble")).to_have_text("are you there?")
    topic = f"/{demo.project_id}/requests/{rid}"
    with signed_in_socket(server, jane.token, topic, topic + "/messages") as frames:

        reply = page.get_by_label("Reply")
        page.get_by_role("button", name="Note").click()
        reply.press_sequentially(NOTE)
        reply.press("Enter")
        expect(page.locator(".message.note .bubble")).to_have_text(NOTE)
        page.get_by_role("button", name="Note").click()
        reply.press_sequentially("On it")
        reply.press("Enter")

        heard = []
        while True:
            frame = json.loads(frames.socket.recv(timeout=10))
            heard.append(frame)
            if frame["action"] == "publish" and any(
                item.get("text") == "On it" for item in frame["payload"]["message"]
            ):
                break
        assert NOTE not in json.dumps(heard)
        typing = [f["payload"]["typing"] for f in heard if f["action"] == "typing"]
        assert typing == [True, False]  # the reply's alone, never the note's
