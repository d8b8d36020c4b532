"""Files in conversations, in headless Chromium: the widget and the dashboard.

What a person would notice: the file chooser shows a progress bar, then a thumbnail on both
sides; a pasted screenshot is sent; a refused file says why; a cancelled upload sends
nothing; a picture opens larger and Esc closes it; an agent's document reaches the visitor
as a chip that downloads; the contact page lists the files.
"""

from __future__ import annotations

import io
import json
import os
import re
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Demo, screenshot
from tests.browser.test_dashboard import sign_in
from tests.browser.test_widget import DemoAgent, open_rid, open_widget, start_conversation
from tests.live import LiveServer

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
XSS_NAME = '<img src=x onerror="window.__pwned = true">.png'
SHADOW = "document.querySelector('frontdesk-widget').shadowRoot"
PROGRESS = f"{SHADOW}.querySelector('[role=progressbar]')"

expect.set_options(timeout=10_000)


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    """A picture: a colour with a little noise (so it does not compress to nothing, and an
    upload takes a moment) and a yellow diagonal (so a thumbnail is visibly this picture)."""
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    image = Image.blend(Image.new("RGB", (width, height), color), noise, 0.12)
    ImageDraw.Draw(image).line([(0, 0), (width, height)], fill=(250, 200, 40), width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def choose(root: Any, name: str, mime: str, data: bytes) -> None:
    root.locator("input[type=file]").set_input_files(
        [{"name": name, "mimeType": mime, "buffer": data}])


def paste_image(page: Page, selector: str, name: str, data: bytes) -> None:
    """Paste a file into the element ``selector`` (pierces the widget's shadow root)."""
    page.locator(selector).evaluate(
        """(el, [name, bytes]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], name, { type: "image/png" }));
            el.dispatchEvent(new ClipboardEvent("paste",
                { clipboardData: dt, bubbles: true, cancelable: true }));
        }""",
        [name, list(data)],
    )


def drop_file(page: Page, selector: str, name: str, mime: str, data: bytes) -> None:
    """Drag a file over the element ``selector`` and drop it there."""
    page.locator(selector).evaluate(
        """(el, [name, mime, bytes]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
            for (const type of ["dragenter", "dragover", "drop"]) {
                el.dispatchEvent(new DragEvent(type,
                    { dataTransfer: dt, bubbles: true, cancelable: true }));
            }
        }""",
        [name, mime, list(data)],
    )


def wait_for_image(page: Page, selector: str, *, root: str = SHADOW, width: int = 0) -> None:
    """Until the <img> at ``selector`` has loaded a picture (``width`` pixels wide, if given)."""
    loaded = f"img.naturalWidth === {width}" if width else "img.naturalWidth > 0"
    page.wait_for_function(f"() => {{ const img = {root}.querySelector({json.dumps(selector)});"
                           f" return Boolean(img && img.complete && {loaded}); }}")


def slow_uploads(page: Page, bytes_per_second: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20, "downloadThroughput": -1,
        "uploadThroughput": bytes_per_second,
    })


@pytest.fixture
def agent(server: LiveServer) -> Any:
    demo_agent = DemoAgent(server)
    yield demo_agent
    demo_agent.http.close()


def visitor_page(server: LiveServer, new_page: Any, text: str) -> Page:
    page: Page = new_page(viewport=DESKTOP)
    page.goto(server.url + "/demo/")
    open_widget(page)
    start_conversation(page, text)
    return page


def test_a_chosen_picture_uploads_with_progress_and_shows_on_both_sides(
    server: LiveServer, new_page: Any, agent: DemoAgent, demo: Demo
) -> None:
    page = visitor_page(server, new_page, "here is a screenshot")
    widget = page.locator("frontdesk-widget")
    rid = open_rid(page)
    slow_uploads(page, 250_000)
    choose(widget, "screenshot.png", "image/png", png(800, 500, (40, 120, 220)))
    expect(widget.locator(".upload [role=progressbar]")).to_be_visible()
    expect(widget.locator(".upload .file-name")).to_have_text("screenshot.png")
    page.wait_for_function(f"() => {{ const bar = {PROGRESS}; const now = Number(bar?.getAttribute("
                           "'aria-valuenow')); return now > 0 && now < 100; }")
    screenshot(page, "files-widget-uploading")
    thumb = widget.locator(".msg.mine .thumb img")
    expect(thumb).to_be_visible(timeout=30_000)
    wait_for_image(page, ".thumb img")
    expect(widget.locator(".upload")).to_have_count(0)

    sent = [m for m in agent.get(f"/requests/{rid}/messages") if m["type"] == "image"]
    assert len(sent) == 1
    meta = sent[0]["metadata"]
    assert (meta["name"], meta["width"], meta["height"]) == ("screenshot.png", 800, 500)
    src = rf"{re.escape(server.url)}/{demo.project_id}/files/[0-9a-f]{{24}}"
    assert re.fullmatch(src, meta["src"])
    screenshot(page, "files-widget-thumbnail")

    widget.locator(".thumb").click()
    viewer = widget.locator("dialog.viewer")
    expect(viewer).to_be_visible()
    expect(viewer.locator("figcaption")).to_have_text("screenshot.png")
    wait_for_image(page, "dialog.viewer img", width=800)
    screenshot(page, "files-widget-viewer")
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(widget.locator(".panel")).to_be_visible()  # Esc closed the picture, not the chat

    # The agent's first signed thumbnail URL fails (as an expired one would): the dashboard
    # asks for a fresh one, once, and shows the picture.
    agent_page: Page = new_page(viewport=DESKTOP)
    failed: list[str] = []
    asked: list[str] = []

    def fail_first(route: Route) -> None:
        if failed:
            route.continue_()
        else:
            failed.append(route.request.url)
            route.fulfill(status=401, content_type="application/json", body="{}")

    agent_page.route("**/thumbnail?*", fail_first)
    agent_page.on("request", lambda request: asked.append(request.url)
                  if request.url == meta["src"] else None)
    sign_in(agent_page, server, demo)
    agent_page.goto(f"{server.url}/dashboard/{demo.project_id}/conversations/{rid}")
    agent_thumb = agent_page.locator(".message.from-visitor .thumb img")
    expect(agent_thumb).to_be_visible()
    wait_for_image(agent_page, ".message .thumb img", root="document")
    # A fresh URL was asked for after the failure (each <img> on screen asks once).
    assert len(failed) == 1 and len(asked) >= 2
    screenshot(agent_page, "files-dashboard-thumbnail")
    agent_page.locator(".message .thumb").click()
    expect(agent_page.locator("dialog.viewer img")).to_be_visible()
    agent_page.get_by_role("button", name="Close image").click()
    expect(agent_page.locator("dialog.viewer")).to_have_count(0)


def test_a_pasted_screenshot_is_sent_and_a_refused_file_says_why(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    # On a phone, the screenshot is the first message: it opens the conversation.
    page: Page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(server.url + "/demo/")
    open_widget(page)
    page.get_by_role("button", name="New conversation").first.click()
    widget = page.locator("frontdesk-widget")
    paste_image(page, "frontdesk-widget textarea", "pasted.png", png(200, 120, (200, 60, 60)))
    expect(widget.locator(".msg.mine .thumb img")).to_be_visible()
    expect(widget.locator(".msg.mine .meta").last).not_to_have_text("Sending…")
    rid = open_rid(page)

    # A Windows program named like a picture: the server sniffs the bytes and refuses it.
    program = b"MZ\x90\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode"
    choose(widget, "holiday.png", "image/png", program)
    refused = widget.locator(".upload.failed")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("holiday.png")
    expect(refused.locator(".file-size")).not_to_have_text("")
    reason = refused.locator(".file-size").inner_text()
    assert "reach" not in reason  # the server's reason, not a network failure
    screenshot(page, "files-widget-refused")

    types = [m["type"] for m in agent.get(f"/requests/{rid}/messages")]
    assert types == ["image"]
    assert agent.get(f"/requests/{rid}")["first_text"] == "pasted.png"


def test_a_file_over_the_projects_limit_is_refused_with_the_limit(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    def set_limit(limit: int) -> None:
        r = agent.http.put(f"/projects/{agent.project_id}",
                           json={"settings": {"max_upload_bytes": limit}})
        assert r.status_code == 200, r.text

    set_limit(40_000)
    page = visitor_page(server, new_page, "a big file")
    widget = page.locator("frontdesk-widget")
    rid = open_rid(page)
    uploads: list[str] = []
    page.on("request", lambda request: uploads.append(request.url)
            if request.url.endswith("/files/chat") else None)
    choose(widget, "manual.pdf", "application/pdf", pdf() + b"%" * 100_000)
    refused = widget.locator(".upload.failed")
    expect(refused.locator(".file-size")).to_have_text(
        "This file is too big (98 KB; the limit is 39 KB).")
    assert uploads == []  # refused before sending anything
    widget.get_by_role("button", name="Dismiss manual.pdf").click()
    expect(refused).to_have_count(0)

    # The limit went down after the widget loaded: the server refuses, and says why.
    set_limit(5_000)
    choose(widget, "notes.pdf", "application/pdf", pdf() + b"%" * 20_000)
    expect(refused.locator(".file-name")).to_have_text("notes.pdf")
    expect(refused.locator(".file-size")).to_have_text(
        "This file is too big: files are limited to 5000 bytes.")
    screenshot(page, "files-widget-too-big")
    assert [m["type"] for m in agent.get(f"/requests/{rid}/messages")] == ["text"]


def test_a_cancelled_upload_sends_nothing(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    page = visitor_page(server, new_page, "cancel this")
    widget = page.locator("frontdesk-widget")
    rid = open_rid(page)
    slow_uploads(page, 50_000)
    choose(widget, "big.png", "image/png", png(1000, 700, (90, 90, 90)))
    cancel = widget.get_by_role("button", name="Cancel upload of big.png")
    expect(cancel).to_be_visible()
    button = cancel.element_handle()
    page.wait_for_function(f"() => Number({PROGRESS}?.getAttribute('aria-valuenow')) > 5")
    # Progress moves the bar without redrawing the row: a press on Cancel is never lost.
    assert button.evaluate("node => node.isConnected")
    cancel.click()
    expect(widget.locator(".upload")).to_have_count(0)
    page.wait_for_timeout(500)
    assert [m["type"] for m in agent.get(f"/requests/{rid}/messages")] == ["text"]


def test_the_agent_sends_a_document_and_the_contact_page_lists_the_files(
    server: LiveServer, new_page: Any, agent: DemoAgent, demo: Demo
) -> None:
    page = visitor_page(server, new_page, "please send the invoice")
    widget = page.locator("frontdesk-widget")
    rid = open_rid(page)
    picture = png(240, 160, (40, 120, 220))
    drop_file(page, "frontdesk-widget .screen", XSS_NAME, "image/png", picture)
    expect(widget.locator(".msg.mine .thumb img")).to_be_visible()

    agent_page: Page = new_page(viewport=DESKTOP)
    sign_in(agent_page, server, demo)
    agent_page.goto(f"{server.url}/dashboard/{demo.project_id}/conversations/{rid}")
    expect(agent_page.locator(".message.from-visitor .thumb")).to_be_visible()

    # A refused file shows in the upload area with the server's reason, until dismissed.
    choose(agent_page.locator(".composer"), "setup.pdf", "application/pdf", b"MZ" + b"\x00" * 300)
    refused = agent_page.locator(".uploads .upload.failed")
    not_accepted = re.compile(r"^Files of type .* are not accepted\.$")
    expect(refused.locator(".file-size")).to_have_text(not_accepted)
    agent_page.get_by_role("button", name="Dismiss setup.pdf").click()
    expect(refused).to_have_count(0)

    slow_uploads(agent_page, 100_000)
    choose(agent_page.locator(".composer"), "draft.pdf", "application/pdf", pdf() + b"%" * 800_000)
    agent_page.get_by_role("button", name="Cancel upload of draft.pdf").click()
    expect(agent_page.locator(".uploads .upload")).to_have_count(0)
    invoice = pdf() + b"%" * 400_000
    choose(agent_page.locator(".composer"), "invoice.pdf", "application/pdf", invoice)
    expect(agent_page.locator(".uploads [role=progressbar]")).to_be_visible()
    expect(agent_page.get_by_role("button", name="Cancel upload of invoice.pdf")).to_be_visible()
    screenshot(agent_page, "files-dashboard-uploading")
    chip = agent_page.locator(".message.from-agent .file-chip")
    expect(chip).to_be_visible()
    expect(chip.locator(".file-name")).to_have_text("invoice.pdf")
    expect(chip).to_have_attribute("href", re.compile(r"/files/[0-9a-f]{24}/download\?"))
    paste_image(agent_page, ".composer-input", "agent-shot.png", png(160, 90, (30, 160, 90)))
    expect(agent_page.locator(".message.from-agent .thumb img")).to_be_visible()
    screenshot(agent_page, "files-dashboard-conversation")

    visitor_chip = widget.locator(".msg:not(.mine) .file-chip")
    expect(visitor_chip).to_be_visible()
    expect(visitor_chip.locator(".file-name")).to_have_text("invoice.pdf")
    expect(visitor_chip.locator(".file-size")).to_have_text("391 KB")
    with page.expect_download() as download:
        visitor_chip.click()
    assert download.value.suggested_filename == "invoice.pdf"
    expect(widget.locator(".msg:not(.mine) .thumb img")).to_be_visible()
    screenshot(page, "files-widget-agent-files")
    assert page.evaluate("window.__pwned === undefined")

    names = [m["text"] for m in agent.get(f"/requests/{rid}/messages") if m["type"] == "file"]
    assert names == ["invoice.pdf"]  # not the cancelled draft
    lead_id = agent.get(f"/requests/{rid}")["lead"]["_id"]
    agent_page.goto(f"{server.url}/dashboard/{demo.project_id}/contacts/{lead_id}")
    files = agent_page.locator(".contact-files .file-item")
    expect(files).to_have_count(3)
    expect(agent_page.locator(".contact-files .file-chip .file-name")).to_have_text("invoice.pdf")
    expect(agent_page.locator(".contact-files .thumb img").first).to_be_visible()
    screenshot(agent_page, "files-dashboard-contact")
    assert agent_page.evaluate("window.__pwned === undefined")


def test_a_message_naming_an_outside_picture_fetches_nothing(
    server: LiveServer, new_page: Any
) -> None:
    """The server refuses such messages; should one reach the widget anyway (an old record, a
    compromised agent tool), it shows the text and neither loads the URL nor sends a token."""
    page = visitor_page(server, new_page, "hello")
    rid = open_rid(page)
    outside: list[str] = []
    page.route("https://tracker.example/**", lambda route: (
        outside.append(route.request.url), route.abort()))

    def inject(route: Route) -> None:
        messages = route.fetch().json()
        forged = dict(messages[0], _id="f" * 24, id="f" * 24, type="image", text="look",
                      senderKind="agent", senderFullname="Agent",
                      metadata={"src": "https://tracker.example/pixel.png", "name": "pixel.png"})
        route.fulfill(json=[*messages, forged])

    page.route(f"**/requests/{rid}/messages?*", inject)
    page.reload()
    widget = page.locator("frontdesk-widget")
    open_widget(page)
    page.locator("frontdesk-widget .row").first.click()
    expect(widget.locator(".msg:not(.mine) .bubble").filter(has_text="look")).to_be_visible()
    expect(widget.locator(".thumb")).to_have_count(0)
    page.wait_for_timeout(300)
    assert outside == []


def test_on_a_customer_site_of_another_origin_a_picture_uploads_and_shows(
    server: LiveServer, new_page: Any, agent: DemoAgent
) -> None:
    host_page = f"""<!doctype html><html><body><h1>A customer site</h1>
      <script>window.frontdeskSettings = {{projectid: "{agent.project_id}"}};</script>
      <script src="{server.url}/widget/frontdesk.js"></script></body></html>"""
    # localhost is another origin than the server's 127.0.0.1: uploads and signed URLs
    # work across origins (CORS for the API, plain <img> loads for the pictures).
    host_origin = f"http://localhost:{server.port}"
    page: Page = new_page(viewport=DESKTOP)
    page.context.grant_permissions(["local-network-access"], origin=host_origin)
    page.route(host_origin + "/shop", lambda route: route.fulfill(
        status=200, content_type="text/html", body=host_page))
    page.goto(host_origin + "/shop")
    open_widget(page)
    page.get_by_role("button", name="New conversation").first.click()
    widget = page.locator("frontdesk-widget")
    choose(widget, "receipt.png", "image/png", png(300, 180, (120, 60, 160)))
    wait_for_image(page, ".msg.mine .thumb img")
    expect(widget.locator(".msg.mine .meta").last).not_to_have_text("Sending…")
    assert page.evaluate("location.origin") == host_origin


def test_a_dashboard_reached_by_another_name_shows_the_pictures(
    server: LiveServer, new_page: Any, demo: Demo
) -> None:
    """Signed URLs name the server's configured public URL (here 127.0.0.1); an agent on
    localhost gets them on localhost, the only origin the dashboard's CSP admits."""
    page = visitor_page(server, new_page, "a picture")
    rid = open_rid(page)
    choose(page.locator("frontdesk-widget"), "photo.png", "image/png", png(200, 150, (60, 140, 90)))
    wait_for_image(page, ".msg.mine .thumb img")

    other_name = f"http://localhost:{server.port}"
    agent_page: Page = new_page(viewport=DESKTOP)
    agent_page.goto(f"{other_name}/dashboard/")
    agent_page.get_by_label("Email").fill(demo.email)
    agent_page.get_by_label("Password").fill(demo.password)
    agent_page.get_by_role("button", name="Sign in").click()
    expect(agent_page.get_by_role("heading", name="Conversations")).to_be_visible()
    agent_page.goto(f"{other_name}/dashboard/{demo.project_id}/conversations/{rid}")
    wait_for_image(agent_page, ".message .thumb img", root="document")
    src = agent_page.locator(".message .thumb img").get_attribute("src")
    assert src is not None and src.startswith(other_name + "/")

