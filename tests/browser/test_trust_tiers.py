"""Trust tiers in headless Chromium: the widget and the dashboard against a live server.

What a visitor or an agent would notice: the widget says when the shop is closed (by the
server's clock, injected here) and still takes the message; an agent's "Ask to verify" reaches
the host page, whose handler signs the visitor in, and the dashboard shows the shield at once;
an e-mail code read from the mail a real SMTP server received proves the address, with every
refusal explained; a reply e-mail's link opens its conversation once, and only once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Page, expect

from frontdesk.clock import FakeClock
from tests.browser.conftest import screenshot
from tests.browser.test_widget import DemoAgent, open_rid, open_widget, send, start_conversation
from tests.conftest import make_settings
from tests.live import LiveServer, live_server
from tests.mailbox import Mailbox, body_of, code_in, mail_settings

pytestmark = pytest.mark.browser

expect.set_options(timeout=10_000)

DESKTOP = {"width": 1280, "height": 800}
# Sunday 6 December 2026, 03:00 UTC: outside Monday-to-Friday office hours in Rome.
SUNDAY_NIGHT = datetime(2026, 12, 6, 3, 0, tzinfo=UTC).timestamp()
OFFICE_HOURS = {"tzname": "Europe/Rome",
                **{day: [{"start": "09:00", "end": "18:00"}] for day in "12345"}}
WIDGET = "frontdesk-widget"
LINK = re.compile(r"https?://\S+#frontdesk-continue=[A-Za-z0-9_\-.~%]+")


@contextmanager
def serve(tmp_path: Path, *, inbox: Mailbox | None = None, clock: FakeClock | None = None,
          **overrides: Any) -> Iterator[tuple[LiveServer, DemoAgent]]:
    """A demo server on SQLite (sending e-mail to ``inbox`` when one is given) and its agent."""
    if inbox is not None:
        overrides |= mail_settings(inbox)
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'frontdesk.db'}", demo=True,
                             **overrides)
    with live_server(settings, clock=clock) as server:
        agent = DemoAgent(server)
        try:
            yield server, agent
        finally:
            agent.http.close()


def sign_in_dashboard(page: Page, server: LiveServer) -> None:
    demo = json.loads((server.services.settings.data_dir / "demo.json").read_text())
    page.goto(f"{server.url}/dashboard/")
    page.get_by_label("Email").fill(demo["email"])
    page.get_by_label("Password").fill(demo["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()


def leaks(url: str, *secrets: str) -> bool:
    """Whether ``url`` carries one of ``secrets`` as a path segment or in its query/fragment."""
    parts = urlsplit(unquote(url))
    segments = parts.path.split("/")
    return any(secret in segments or secret in parts.query or secret in parts.fragment
               for secret in secrets)


def record_urls(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def test_outside_opening_hours_the_widget_says_closed_and_takes_the_message(
    tmp_path: Path, new_page: Any, mailbox: Mailbox
) -> None:
    clock = FakeClock(SUNDAY_NIGHT)
    with serve(tmp_path, inbox=mailbox, clock=clock) as (server, agent):
        agent.http.put(f"/projects/{agent.project_id}", json={
            "activeOperatingHours": True, "operatingHours": OFFICE_HOURS,
        }).raise_for_status()
        page: Page = new_page(viewport=DESKTOP, timezone_id="Europe/Rome", locale="en-GB")
        # The visitor's own clock reads the server's time: the widget says when the team is
        # back ("today", "tomorrow", "on Monday") from the browser's date.
        page.clock.set_fixed_time(datetime.fromtimestamp(SUNDAY_NIGHT, UTC))
        page.goto(server.url + "/demo/")
        open_widget(page)

        card = page.locator(f"{WIDGET} .hours")
        expect(card).to_have_attribute("data-availability", "closed")
        expect(card).to_contain_text("We are closed right now")
        expect(card).to_contain_text("We reply tomorrow at 09:00")  # Sunday night in Rome
        expect(card).to_contain_text("You can still write to us")
        expect(card.get_by_role("button", name="Get the answer by e-mail")).to_be_visible()
        screenshot(page, "trust-widget-off-hours-home")

        start_conversation(page, "Do you deliver on Sundays?")
        header = page.locator(f"{WIDGET} .header p")
        expect(header).to_have_text("Closed now · we reply tomorrow at 09:00")
        # The conversation opens with the server's off-hours message, and the visitor is
        # offered to prove an address for the answer.
        expect(page.locator(f"{WIDGET} .messages")).to_contain_text("We are closed right now")
        notice = page.locator(f"{WIDGET} .hours-notice")
        expect(notice).to_be_visible()
        screenshot(page, "trust-widget-off-hours-conversation")

        # The code of the first mail expires before it is typed; a new one proves the address.
        notice.get_by_role("button", name="Get the answer by e-mail").click()
        flow = page.locator(f"{WIDGET} .verify")
        flow.get_by_label("Your e-mail address").fill("night.owl@example.com")
        flow.get_by_role("button", name="Send code").click()
        expect(flow).to_have_attribute("data-verify", "code")
        expired = code_in(mailbox.wait_for("night.owl@example.com")[0])
        clock.advance(3600)
        flow.get_by_label("6-digit code").fill(expired)
        flow.get_by_role("button", name="Verify").click()
        expect(flow.get_by_role("alert")).to_have_text("That code has expired. Send a new one.")
        flow.get_by_role("button", name="Send a new code").click()
        fresh = code_in(mailbox.wait_for("night.owl@example.com", count=2)[1])
        flow.get_by_label("6-digit code").fill(fresh)
        flow.get_by_role("button", name="Verify").click()
        expect(flow).to_have_attribute("data-verify", "done")
        expect(flow).to_contain_text("night.owl@example.com is confirmed")
        screenshot(page, "trust-widget-off-hours-email-confirmed")

        # Monday 10:00 in Rome: open, with the demo agent available; the card is gone.
        clock.current = datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp()
        page.reload()
        open_widget(page)
        expect(page.locator(f"{WIDGET} .row")).to_have_count(1)
        expect(page.locator(f"{WIDGET} .hours")).to_have_count(0)

        # Open, but the only agent is away: the widget says so.
        agent.http.put(f"/{agent.project_id}/project_users",
                       json={"user_available": False}).raise_for_status()
        page.reload()
        open_widget(page)
        away = page.locator(f"{WIDGET} .hours")
        expect(away).to_have_attribute("data-availability", "away")
        expect(away).to_contain_text("Nobody is available right now")


def test_the_agent_asks_and_the_host_page_signs_the_visitor_in_the_shield_shows_live(
    tmp_path: Path, new_page: Any
) -> None:
    with serve(tmp_path) as (server, _):
        visitor = new_page(viewport=DESKTOP)
        visitor.goto(server.url + "/demo/")
        # Logged in to the shop, but not (yet) in the chat.
        visitor.get_by_label("Sign in to the chat too").uncheck()
        visitor.get_by_role("button", name="Log in").click()
        expect(visitor.locator("#logged-in")).to_contain_text("Grace Hopper")
        open_widget(visitor)
        start_conversation(visitor, "How much is the fee to cancel my order?")
        assert visitor.evaluate("window.frontdesk.getUser().isAuthenticated") is False
        rid = open_rid(visitor)

        agent = new_page(viewport=DESKTOP)
        sign_in_dashboard(agent, server)
        agent.evaluate("window.__sameDocument = true")
        item = agent.locator(f'.conv-item[data-request-id="{rid}"]')
        expect(item).to_have_attribute("data-tier", "anonymous")
        item.click()
        header = agent.locator(".thread-header")
        expect(header.locator(".shield")).to_have_count(0)
        # No SMTP here: the e-mail choice is off, and the menu says why.
        header.get_by_text("Ask to verify").click()
        menu = header.locator(".ask-menu")
        expect(menu.locator('[data-tier="email_verified"]')).to_be_disabled()
        expect(menu).to_contain_text("E-mail is off")
        screenshot(agent, "trust-dashboard-ask-to-verify")
        menu.get_by_role("button", name=re.compile("Sign in with your site's account")).click()

        # The widget tells the host page; the demo shop signs Grace in with a custom token.
        step_up = visitor.locator("#step-up")
        expect(step_up).to_contain_text("Verified for the agent as Grace Hopper")
        visitor.wait_for_function("() => window.frontdesk.getUser()?.isAuthenticated === true")
        # The visitor stays in the conversation, which says what happened.
        expect(visitor.locator(f"{WIDGET} .msg.system").last).to_contain_text("signed in")
        expect(visitor.locator(f"{WIDGET} .verify-request")).to_have_count(0)
        screenshot(visitor, "trust-widget-step-up-done")

        expect(header.locator(".shield")).to_be_visible()
        expect(item.locator(".shield")).to_be_visible()
        expect(item).to_have_attribute("data-tier", "authenticated")
        expect(agent.locator(".inbox-panel .auth-banner.is-verified")).to_be_visible()
        expect(agent.locator(".messages .system-line").last).to_be_visible()
        assert agent.evaluate("window.__sameDocument") is True  # no reload
        screenshot(agent, "trust-dashboard-shield-after-step-up")


def test_an_email_code_proves_the_address_and_the_dashboard_shows_the_badge(
    tmp_path: Path, new_page: Any, mailbox: Mailbox
) -> None:
    with serve(tmp_path, inbox=mailbox) as (server, _):
        visitor = new_page(viewport=DESKTOP)
        urls = record_urls(visitor)
        visitor.goto(server.url + "/demo/")
        open_widget(visitor)
        start_conversation(visitor, "Before I pay: is it really you?")
        rid = open_rid(visitor)

        agent = new_page(viewport=DESKTOP)
        sign_in_dashboard(agent, server)
        agent.evaluate("window.__sameDocument = true")
        agent.locator(f'.conv-item[data-request-id="{rid}"]').click()
        header = agent.locator(".thread-header")
        header.get_by_text("Ask to verify").click()
        header.get_by_role("button", name=re.compile("Prove an e-mail address")).click()
        expect(header.locator("summary")).to_contain_text("Verification asked")

        request = visitor.locator(f"{WIDGET} .verify-request")
        expect(request).to_contain_text("Please confirm who you are")
        # The demo shop hears onVerificationRequested; nobody is logged in there.
        expect(visitor.locator("#step-up")).to_contain_text("An agent asked you to verify")
        screenshot(visitor, "trust-widget-verification-request")
        request.get_by_role("button", name="Confirm my e-mail").click()

        flow = visitor.locator(f"{WIDGET} .verify")
        flow.get_by_label("Your e-mail address").fill("ada@example.com")
        flow.get_by_role("button", name="Send code").click()
        expect(flow).to_contain_text("We sent a 6-digit code to ada@example.com")
        expect(flow).not_to_contain_text("null")
        screenshot(visitor, "trust-widget-code-sent")
        code = code_in(mailbox.wait_for("ada@example.com")[0])

        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        flow.get_by_label("6-digit code").fill(wrong)
        flow.get_by_role("button", name="Verify").click()
        expect(flow.get_by_role("alert")).to_have_text(
            "That code is not right. Check the e-mail and try again. 4 tries left.")
        screenshot(visitor, "trust-widget-wrong-code")
        flow.get_by_label("6-digit code").fill(code)
        flow.get_by_role("button", name="Verify").click()
        expect(flow).to_have_attribute("data-verify", "done")
        expect(visitor.locator(f"{WIDGET} .verify-request")).to_have_count(0)
        expect(visitor.locator(f"{WIDGET} .msg.system").last).to_contain_text("ada@example.com")
        screenshot(visitor, "trust-widget-email-confirmed")
        # Neither the address nor a code ever went into a URL.
        assert not [u for u in urls if leaks(u, "ada@example.com", code, wrong)]

        # The dashboard upgrades live: the e-mail badge, not the shield.
        expect(header.locator(".email-badge")).to_be_visible()
        expect(header.locator(".shield")).to_have_count(0)
        item = agent.locator(f'.conv-item[data-request-id="{rid}"]')
        expect(item).to_have_attribute("data-tier", "email_verified")
        expect(item.locator(".email-badge")).to_be_visible()
        # The list row (view=inbox) carries the proof: the badge names the address.
        expect(item.locator(".email-badge")).to_have_attribute(
            "title", re.compile(r"E-mail verified: ada@example\.com proven by the visitor"))
        panel = agent.locator(".inbox-panel")
        expect(panel.locator(".email-badge")).to_be_visible()
        expect(panel.locator('[data-field="email"]')).to_contain_text("Verified by e-mail code")
        expect(agent.locator(".messages .system-line")).to_contain_text(["ada@example.com"])
        assert agent.evaluate("window.__sameDocument") is True
        screenshot(agent, "trust-dashboard-email-verified")

        panel.get_by_role("link", name="Open contact").click()
        expect(agent.locator(".contact-header .email-badge")).to_be_visible()
        agent.get_by_role("button", name="Edit self-reported fields").click()
        expect(agent.locator(".edit-form input[name=email]")).to_have_count(0)  # proven
        screenshot(agent, "trust-dashboard-contact-email-verified")


def test_a_locked_code_and_too_many_codes_are_explained(
    tmp_path: Path, new_page: Any, mailbox: Mailbox
) -> None:
    clock = FakeClock(SUNDAY_NIGHT)
    with serve(tmp_path, inbox=mailbox, clock=clock, email_code_rate_per_address=2) as (
        server, agent
    ):
        agent.http.put(f"/projects/{agent.project_id}", json={
            "activeOperatingHours": True, "operatingHours": OFFICE_HOURS,
        }).raise_for_status()
        page: Page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                              has_touch=True)  # on a phone
        page.goto(server.url + "/demo/")
        open_widget(page)
        page.get_by_role("button", name="Get the answer by e-mail").click()
        flow = page.locator(f"{WIDGET} .verify")
        flow.get_by_label("Your e-mail address").fill("guess@example.com")
        flow.get_by_role("button", name="Send code").click()
        code = code_in(mailbox.wait_for("guess@example.com")[0])
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            flow.get_by_label("6-digit code").fill(wrong)
            flow.get_by_role("button", name="Verify").click()
            expect(flow.get_by_role("alert")).to_be_visible()
        expect(flow.get_by_role("alert")).to_have_text(
            "Too many wrong tries: this code is locked. Send a new one.")
        # Locked for good: even the right code is refused now.
        flow.get_by_label("6-digit code").fill(code)
        flow.get_by_role("button", name="Verify").click()
        expect(flow.get_by_role("alert")).to_contain_text("locked")
        screenshot(page, "trust-widget-code-locked")

        flow.get_by_role("button", name="Send a new code").click()
        mailbox.wait_for("guess@example.com", count=2)
        flow.get_by_role("button", name="Send a new code").click()
        expect(flow.get_by_role("alert")).to_have_text(
            "Too many codes were asked for. Please wait a minute and try again.")
        screenshot(page, "trust-widget-rate-limited")
        assert len(mailbox.to("guess@example.com")) == 2


def test_a_reply_email_link_opens_the_conversation_once(
    tmp_path: Path, new_page: Any, mailbox: Mailbox
) -> None:
    clock = FakeClock(time.time())
    with serve(tmp_path, inbox=mailbox, clock=clock) as (server, agent):
        agent.http.put(f"/projects/{agent.project_id}", json={
            "settings": {"continuity_emails": True},
        }).raise_for_status()
        visitor = new_page(viewport=DESKTOP)
        visitor.goto(server.url + "/demo/")
        visitor.get_by_role("button", name="Log in").click()  # the shop signs grace@example.com
        visitor.wait_for_function("() => window.frontdesk.getUser()?.isAuthenticated === true")
        open_widget(visitor)
        start_conversation(visitor, "Can you tell me when my parcel ships?")
        rid = open_rid(visitor)
        visitor.context.close()  # Grace leaves
        # Her socket's close marks when she was last there: wait for the server to record it,
        # or the mark would fall after the clock moves on and she would never look away.
        deadline = time.monotonic() + 10
        while server.app.state.hub.connection_count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.app.state.hub.connection_count == 0

        away = server.services.settings.continuity_away_minutes
        clock.advance(away * 60 + 120)
        agent.reply(rid, "It ships tomorrow morning.")
        [mail] = mailbox.wait_for("grace@example.com")
        body = body_of(mail)
        assert "It ships tomorrow morning." in body
        match = LINK.search(body)
        assert match, body
        link = match.group(0)
        time.sleep(1)
        assert len(mailbox.to("grace@example.com")) == 1  # exactly one e-mail

        page: Page = new_page(viewport=DESKTOP)
        page.goto(link)
        expect(page.locator(f"{WIDGET} .panel")).to_be_visible()
        expect(page.locator(f"{WIDGET} .messages")).to_contain_text("It ships tomorrow morning.")
        expect(page.locator(f"{WIDGET} .messages")).to_contain_text("when my parcel ships")
        assert "frontdesk-continue" not in page.url  # taken out of the address bar
        send(page, "Thank you!")
        screenshot(page, "trust-widget-continuity-link")
        assert [m["text"] for m in agent.get(f"/requests/{rid}/messages")][-1] == "Thank you!"

        again: Page = new_page(viewport=DESKTOP)
        again.goto(link)
        refused = again.locator(f"{WIDGET} .continuity-error")
        expect(refused).to_contain_text("This link cannot open the conversation")
        expect(refused).to_contain_text("used already or has expired")
        expect(again.locator(f"{WIDGET}")).not_to_contain_text("It ships tomorrow morning.")
        screenshot(again, "trust-widget-continuity-link-refused")


def test_admins_set_opening_hours_and_department_tiers_and_see_why_email_is_off(
    tmp_path: Path, new_page: Any
) -> None:
    with serve(tmp_path) as (server, agent):
        pid = agent.project_id
        agent.http.post(f"/{pid}/departments", json={"name": "Billing"}).raise_for_status()
        page: Page = new_page(viewport={"width": 1280, "height": 1400})
        sign_in_dashboard(page, server)
        page.goto(f"{server.url}/dashboard/{pid}/settings")

        # No SMTP: the page says what does not work, and why.
        notice = page.locator(".notice.email-off")
        expect(notice).to_contain_text("E-mail is off on this server")
        expect(notice).to_contain_text("no SMTP server is configured")
        expect(notice).to_contain_text("visitors cannot prove an e-mail address")

        hours = page.locator("#hours")
        hours.locator('input[name="active_operating_hours"]').check()
        hours.get_by_label("Time zone").select_option("Europe/Rome")
        for day in ("Monday", "Tuesday"):
            hours.get_by_label(f"Open on {day}").check()
        hours.get_by_label("Tuesday closes").fill("13:00")
        hours.get_by_role("button", name="+ hours").nth(1).click()
        hours.get_by_label("Tuesday opens").nth(1).fill("14:00")
        hours.get_by_label("Tuesday closes").nth(1).fill("18:30")
        hours.get_by_label("Off-hours message").fill("Back on Monday at nine.")
        hours.get_by_role("button", name="Save opening hours").click()
        expect(hours.get_by_role("status")).to_have_text("Saved.")
        screenshot(page, "trust-dashboard-opening-hours")
        project = agent.http.get(f"/projects/{pid}").json()
        assert project["activeOperatingHours"] is True
        assert project["operatingHours"] == {
            "tzname": "Europe/Rome", "1": [{"start": "09:00", "end": "17:00"}],
            "2": [{"start": "09:00", "end": "13:00"}, {"start": "14:00", "end": "18:30"}],
        }
        assert project["settings"]["off_hours_message"] == "Back on Monday at nine."

        # A span without its end is not sent: the form asks for it, and nothing changes.
        closes = hours.get_by_label("Monday closes")
        closes.fill("")
        hours.get_by_role("button", name="Save opening hours").click()
        assert closes.evaluate("input => input.validity.valueMissing") is True
        assert agent.http.get(f"/projects/{pid}").json()["operatingHours"] == project[
            "operatingHours"]

        billing = page.locator(".simple-row", has_text="Billing")
        billing.locator("summary", has_text="Rules").click()
        billing.get_by_label("Minimum tier for Billing").select_option("authenticated")
        expect(billing.locator(".tier-explain")).to_contain_text("Only visitors your backend")
        billing.get_by_text("Own opening hours").click()
        billing.get_by_label("Open on Saturday").check()
        billing.get_by_label("Off-hours message").fill("Billing answers on weekdays.")
        billing.get_by_role("button", name="Save rules").click()
        expect(page.locator(".simple-row", has_text="Billing").locator(".tier-pill")).to_have_text(
            "Authenticated only")
        screenshot(page, "trust-dashboard-department-rules")
        [dept] = [d for d in agent.get("/departments") if d["name"] == "Billing"]
        assert dept["minTier"] == "authenticated"
        assert dept["operatingHours"] == {
            "tzname": "Europe/Rome", "6": [{"start": "09:00", "end": "17:00"}]}
        assert dept["offHoursMessage"] == "Billing answers on weekdays."


def test_a_department_that_requires_an_email_holds_the_conversation_until_it_is_proven(
    tmp_path: Path, new_page: Any, mailbox: Mailbox
) -> None:
    with serve(tmp_path, inbox=mailbox) as (server, agent):
        pid = agent.project_id
        billing = agent.http.post(f"/{pid}/departments", json={
            "name": "Billing", "minTier": "email_verified"}).json()
        page: Page = new_page(viewport=DESKTOP)
        # The host page names the department in its settings.
        page.add_init_script(f"""
            Object.defineProperty(window, "frontdeskSettings", {{
              configurable: true,
              get() {{ return this.__fd; }},
              set(value) {{ this.__fd = {{ ...value, departmentid: "{billing['_id']}" }}; }},
            }});
        """)
        page.goto(f"{server.url}/widget/chat.html?project={pid}")
        expect(page.locator(f"{WIDGET} .panel")).to_be_visible()
        start_conversation(page, "Why was I charged twice?")
        rid = open_rid(page)
        held = page.locator(f'{WIDGET} .verify-request[data-reason="department"]')
        expect(held).to_contain_text("your message waits for them until you do")
        screenshot(page, "trust-widget-held-by-department")
        assert rid not in [r["request_id"] for r in agent.get("/requests", limit=100)["requests"]]

        held.get_by_role("button", name="Confirm my e-mail").click()
        flow = page.locator(f"{WIDGET} .verify")
        flow.get_by_label("Your e-mail address").fill("payer@example.com")
        flow.get_by_role("button", name="Send code").click()
        flow.get_by_label("6-digit code").fill(code_in(mailbox.wait_for("payer@example.com")[0]))
        flow.get_by_role("button", name="Verify").click()
        expect(flow).to_have_attribute("data-verify", "done")
        expect(held).to_have_count(0)
        [request] = [r for r in agent.get("/requests", limit=100)["requests"]
                     if r["request_id"] == rid]
        assert (request["department"], request["tier"]) == (billing["_id"], "email_verified")
