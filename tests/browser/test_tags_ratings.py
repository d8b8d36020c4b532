"""Tags and ratings in the agent dashboard, in headless Chromium against a live demo server.

A tag another agent (here: the API) adds shows as a chip without a reload; the agent tags and
untags in the side panel and filters the list by tag; a closed conversation shows the
visitor's rating, and the contact page shows tags and ratings.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Demo, screenshot
from tests.browser.test_dashboard import (
    DESKTOP,
    XSS_NAME,
    anonymous_visitor,
    sign_in,
    watch_dialogs,
)
from tests.live import LiveServer


def _agent_headers(api: httpx.Client, demo: Demo) -> dict[str, str]:
    r = api.post("/auth/signin", json={"email": demo.email, "password": demo.password})
    assert r.status_code == 200, r.text
    return {"Authorization": r.json()["token"]}


def test_tag_chips_appear_live_and_the_list_filters_by_tag(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    page = new_page(viewport=DESKTOP)
    alerts = watch_dialogs(page)
    sign_in(page, server, demo)
    other = _agent_headers(api, demo)  # another session of the team, as another agent's
    pid = demo.project_id
    api.post(f"/{pid}/tags", json={"tag": "refund", "color": "#e5484d"}, headers=other)

    ada = anonymous_visitor(api, demo, firstname="Ada")
    ada_rid = ada.open_conversation("I want my money back")
    bob = anonymous_visitor(api, demo, firstname="Bob")
    bob_rid = bob.open_conversation("just browsing")
    page.get_by_role("tab", name=re.compile("All open")).click()
    ada_item = page.locator(f'.conv-item[data-request-id="{ada_rid}"]')
    ada_item.click()
    header = page.locator(".thread-header")
    panel = page.locator(".inbox-panel")
    expect(panel.locator(".tags-card")).to_contain_text("No tags")

    # Someone else tags the conversation: the chips show without a reload.
    r = api.put(f"/{pid}/requests/{ada_rid}/tag", headers=other,
                json=[{"tag": "refund", "color": "#e5484d"},
                      {"tag": XSS_NAME, "color": "red;x:url(x)"}])
    assert r.status_code == 200, r.text
    expect(header.locator('.tag-chip[data-tag="refund"]')).to_be_visible()
    expect(panel.locator('.tags-card .tag-chip[data-tag="refund"]')).to_be_visible()
    expect(ada_item.locator('.tag-chip[data-tag="refund"]')).to_be_visible()
    injected = panel.locator(".tags-card .tag-chip").nth(1)
    expect(injected.locator(".tag-name")).to_have_text(XSS_NAME)  # text, never markup
    assert injected.evaluate("el => el.style.getPropertyValue('--tag-color')") == ""
    colour = header.locator('.tag-chip[data-tag="refund"] .tag-dot').evaluate(
        "el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(229, 72, 77)"

    # The agent tags from the panel (a new name joins the library) and removes one.
    panel.get_by_label("Add a tag to this conversation").fill("priority")
    panel.locator(".tag-add").get_by_role("button", name="Add").click()
    expect(header.locator('.tag-chip[data-tag="priority"]')).to_be_visible()
    panel.get_by_role("button", name=f"Remove tag {XSS_NAME}").click()
    expect(panel.locator(".tags-card .tag-chip")).to_have_count(2)
    tags = api.get(f"/{pid}/requests/{ada_rid}", headers=other).json()["tags"]
    assert [t["tag"] for t in tags] == ["refund", "priority"]
    library = [t["tag"] for t in api.get(f"/{pid}/tags", headers=other).json()]
    assert library == ["priority", "refund"]
    screenshot(page, "tags-live-chips")

    # The list filters by tag.
    expect(page.locator(".conv-item")).to_have_count(2)
    page.get_by_label("Filter by tag").select_option("refund")
    expect(page.locator(".conv-item")).to_have_count(1)
    expect(page.locator(f'.conv-item[data-request-id="{bob_rid}"]')).to_have_count(0)
    screenshot(page, "tags-filtered-list")
    page.get_by_label("Filter by tag").select_option("")
    expect(page.locator(".conv-item")).to_have_count(2)
    assert alerts == []


def test_a_closed_conversation_shows_its_rating_and_the_contact_page_its_tags(
    server: LiveServer, demo: Demo, api: httpx.Client, new_page: Any
) -> None:
    page = new_page(viewport=DESKTOP)
    sign_in(page, server, demo)
    other = _agent_headers(api, demo)
    pid = demo.project_id
    visitor = anonymous_visitor(api, demo, firstname="Carla")
    rid = visitor.open_conversation("where is my parcel?")
    page.get_by_role("tab", name=re.compile("All open")).click()
    page.locator(f'.conv-item[data-request-id="{rid}"]').click()
    expect(page.locator(".inbox-panel .rating-card")).to_have_count(0)  # open, unrated

    api.put(f"/{pid}/requests/{rid}/close", headers=other)
    expect(page.locator(".closed-note")).to_contain_text("has not rated")
    rated = api.patch(f"/{pid}/requests/{rid}/rating", headers={"Authorization": visitor.token},
                      json={"rating": 4, "rating_message": "Quick and kind"})
    assert rated.status_code == 200, rated.text
    # The rating arrives with the conversation's update, without a reload.
    closed_rating = page.locator(".closed-note .rating")
    expect(closed_rating.locator(".rating-stars")).to_have_attribute("data-rating", "4")
    expect(closed_rating.locator(".star.is-on")).to_have_count(4)
    expect(closed_rating).to_contain_text("Quick and kind")
    expect(page.locator(".inbox-panel .rating-card")).to_contain_text("Quick and kind")
    expect(page.locator(".project-ratings")).to_contain_text("4.00")
    expect(page.locator(".project-ratings")).to_contain_text("1 rating")
    screenshot(page, "rating-closed-conversation")

    api.put(f"/{pid}/leads/{visitor.id}/tag", headers=other, json=["returning"])
    page.get_by_role("link", name="Open contact").click()
    expect(page.get_by_role("heading", name="Carla")).to_be_visible()
    tags = page.locator(".tags-card")
    expect(tags.locator('.tag-chip[data-tag="returning"]')).to_be_visible()
    tags.get_by_label("Add a tag to this contact").fill("vip")
    tags.get_by_role("button", name="Add").click()
    expect(tags.locator('.tag-chip[data-tag="vip"]')).to_be_visible()
    tags.get_by_role("button", name="Remove tag returning").click()
    expect(tags.locator(".tag-chip")).to_have_count(1)
    lead = api.get(f"/{pid}/leads/{visitor.id}", headers=other).json()
    assert lead["tags"] == ["vip"]
    expect(page.locator(".rating-summary")).to_contain_text("4.0 from 1 rating")
    expect(page.locator(".simple-row .rating-stars")).to_have_attribute("data-rating", "4")
    screenshot(page, "contact-tags-ratings")

    page.get_by_role("link", name="Settings").click()
    library = page.locator("#tags")
    expect(library.locator('.tag-chip[data-tag="vip"]')).to_be_visible()
    library.get_by_label("Tag name").fill("billing")
    library.get_by_role("button", name="Add tag").click()
    expect(library.locator('.tag-chip[data-tag="billing"]')).to_be_visible()
    library.get_by_role("button", name="Remove tag billing").click()
    expect(library.locator('.tag-chip[data-tag="billing"]')).to_have_count(0)
    screenshot(page, "settings-tag-library")

    page.get_by_role("link", name="Audit log").click()
    closed = page.locator('.audit-row[data-type="request.closed"]')
    expect(closed).to_contain_text("by Demo Agent")
    expect(closed).to_contain_text(rid)
    expect(page.locator('.audit-row[data-type="tag.deleted"]')).to_contain_text("“billing”")
    expect(page.locator('.audit-row[data-type="tag.removed"]')).to_contain_text("“returning”")
    screenshot(page, "audit-agent-actions")
