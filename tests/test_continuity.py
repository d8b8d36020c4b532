"""Continuity: an agent's reply to a visitor who left goes, once, to its proven address, with
a link that reopens the conversation once; the transcript on close; retries of the outbox."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from frontdesk.actions.outbox import send_due
from frontdesk.clock import FakeClock
from tests.conftest import Factory, Project, Visitor
from tests.mailbox import Mailbox, body_of, code_in, mail_settings
from tests.realtime.wsclient import signed_in

AWAY = 11 * 60  # past the default 10 minutes


@pytest.fixture
def make(mailing: Factory) -> Factory:
    """This file's factory is the mailing one (``mailbox`` and ``clock`` come with it)."""
    return mailing


def proven_visitor(make: Factory, mailbox: Mailbox, project: Project, email: str) -> Visitor:
    visitor = make.visitor(project)
    r = make.client.post(f"/{project.id}/verifications/email", json={"email": email},
                         headers=visitor.headers)
    assert r.status_code == 200, r.text
    code = code_in(mailbox.wait_for(email)[0])
    r = make.client.post(f"/{project.id}/verifications/email/confirm",
                         json={"email": email, "code": code}, headers=visitor.headers)
    assert r.status_code == 200, r.text
    return visitor


def reply(make: Factory, project: Project, rid: str, text: str) -> None:
    r = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": text},
                         headers=project.owner.headers)
    assert r.status_code == 200, r.text


def wrote_and_left(visitor: Visitor, clock: FakeClock, text: str = "hello", **body: Any) -> str:
    """A new conversation in which ``visitor`` wrote ``text``, then left: its id."""
    rid = visitor.new_request_id()
    assert visitor.send(rid, text, **body).status_code == 200
    clock.advance(AWAY)
    return rid


def set_project(make: Factory, project: Project, **settings: Any) -> None:
    r = make.client.put(f"/projects/{project.id}", json={"settings": settings},
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text


def replies_to(mailbox: Mailbox, address: str) -> list[Any]:
    return [m for m in mailbox.to(address) if m["Subject"].startswith("New reply")]


def settle(make: Factory) -> None:
    """Let the outbox send what is due (and show that nothing else is)."""
    services = make.client.app.state.services  # type: ignore[attr-defined]
    make.client.portal.call(send_due, services)  # type: ignore[union-attr]


def link_token(message: Any) -> str:
    found = re.search(r"#frontdesk-continue=([A-Za-z0-9_-]+)", body_of(message))
    assert found is not None, body_of(message)
    return found.group(1)


def test_a_reply_to_an_away_visitor_sends_one_email_whose_link_works_once(
    make: Factory, mailbox: Mailbox, clock: FakeClock
) -> None:
    project = make.project()
    visitor = proven_visitor(make, mailbox, project, "ada@example.com")
    rid = visitor.new_request_id()
    assert visitor.send(rid, "when is the fee due?").status_code == 200
    reply(make, project, rid, "Right away")  # the visitor is still here: no e-mail
    clock.advance(AWAY)
    reply(make, project, rid, "It is due on Friday.")
    reply(make, project, rid, "And it is 120 EUR.")
    [message] = [m for m in mailbox.wait_for("ada@example.com", 2) if m in
                 replies_to(mailbox, "ada@example.com")]
    settle(make)
    assert len(replies_to(mailbox, "ada@example.com")) == 1
    text = body_of(message)
    assert "It is due on Friday." in text and "Right away" not in text
    assert "when is the fee due?" not in text
    token = link_token(message)
    assert f"/widget/chat.html?project={project.id}#frontdesk-continue=" in text
    r = make.client.post("/auth/continue", json={"token": token})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["request_id"] == rid and body["user"]["_id"] == visitor.id
    seen = make.client.get(f"/{project.id}/requests/{rid}",
                           headers={"Authorization": body["token"]})
    assert seen.status_code == 200
    r = make.client.post("/auth/continue", json={"token": token})
    assert r.status_code == 401 and r.json()["code"] == "link_used"
    r = make.client.post("/auth/continue", json={"token": token[:-2] + "xx"})
    assert r.status_code == 401 and r.json()["code"] == "link_invalid"
    # Back and gone again: the next absence sends the next e-mail.
    assert visitor.send(rid, "thanks").status_code == 200
    clock.advance(AWAY)
    reply(make, project, rid, "You are welcome.")
    mailbox.wait_for("ada@example.com", 3)
    assert len(replies_to(mailbox, "ada@example.com")) == 2


def test_the_link_expires_and_signs_in_no_one_else(
    make: Factory, mailbox: Mailbox, clock: FakeClock
) -> None:
    project = make.project()
    visitor = proven_visitor(make, mailbox, project, "bo@example.com")
    rid = wrote_and_left(visitor, clock)
    reply(make, project, rid, "Hello!")
    mailbox.wait_for("bo@example.com", 2)
    token = link_token(replies_to(mailbox, "bo@example.com")[0])
    clock.advance(24 * 3600 + 1)
    r = make.client.post("/auth/continue", json={"token": token})
    assert r.status_code == 401 and r.json()["code"] == "link_expired"


def test_no_email_while_the_visitor_is_connected(
    make: Factory, mailbox: Mailbox, clock: FakeClock
) -> None:
    project = make.project()
    visitor = proven_visitor(make, mailbox, project, "cy@example.com")
    rid = wrote_and_left(visitor, clock)
    with signed_in(make.client, visitor.token):
        reply(make, project, rid, "Hello!")
    settle(make)
    assert replies_to(mailbox, "cy@example.com") == []


def test_no_conversation_content_goes_to_an_unproven_address(
    make: Factory, mailbox: Mailbox, clock: FakeClock
) -> None:
    project = make.project()
    visitor = make.visitor(project, email="dee@example.com")
    rid = wrote_and_left(visitor, clock, "hi", attributes={"userEmail": "dee@example.com"})
    reply(make, project, rid, "secret answer")
    set_project(make, project, transcript_on_close=True)
    assert make.client.put(f"/{project.id}/requests/{rid}/close",
                           headers=project.owner.headers).status_code == 200
    settle(make)
    assert mailbox.to("dee@example.com") == []


def test_an_authenticated_visitors_token_email_gets_the_reply(
    make: Factory, mailbox: Mailbox, clock: FakeClock
) -> None:
    project = make.project()
    visitor = make.visitor(project, authenticated=True, email="eve@example.com")
    rid = wrote_and_left(visitor, clock, "hi")
    reply(make, project, rid, "Hi Eve")
    [message] = mailbox.wait_for("eve@example.com")
    assert "Hi Eve" in body_of(message)


def test_the_transcript_on_close_is_in_order_without_notes(
    make: Factory, mailbox: Mailbox
) -> None:
    project = make.project()
    set_project(make, project, transcript_on_close=True)
    visitor = proven_visitor(make, mailbox, project, "fay@example.com")
    rid = visitor.new_request_id()
    assert visitor.send(rid, "first").status_code == 200
    reply(make, project, rid, "second")
    assert visitor.send(rid, "third").status_code == 200
    assert make.client.put(f"/{project.id}/requests/{rid}/close",
                           headers=project.owner.headers).status_code == 200
    transcript = [m for m in mailbox.wait_for("fay@example.com", 2)
                  if m["Subject"].startswith("Your conversation")]
    text = body_of(transcript[0])
    assert text.index("first") < text.index("second") < text.index("third")


def test_a_refused_email_is_tried_again(
    mailbox: Mailbox, app_factory: Any, clock: FakeClock
) -> None:
    # The SMTP server is down at first: the code e-mail waits in the outbox, then goes.
    down = {**mail_settings(mailbox), "smtp_url": "smtp://127.0.0.1:9"}
    make = Factory(app_factory(clock=clock, **down))
    project = make.project()
    visitor = make.visitor(project)
    r = make.client.post(f"/{project.id}/verifications/email",
                         json={"email": "gil@example.com"}, headers=visitor.headers)
    assert r.status_code == 200
    services = make.client.app.state.services  # type: ignore[attr-defined]

    async def outbox_state() -> list[Any]:
        return await services.db.fetch_all("SELECT attempts, sent_at, last_error FROM outbox")

    deadline = time.monotonic() + 5
    while not make.client.portal.call(outbox_state)[0]["last_error"]:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [row] = make.client.portal.call(outbox_state)  # type: ignore[union-attr]
    assert row["sent_at"] is None and row["last_error"]
    # The next attempt waits for its delay: nothing is due yet, then it is.
    services.mailer = type(services.mailer)(services.settings.replace(smtp_url=mailbox.url))
    assert make.client.portal.call(send_due, services) == 0  # type: ignore[union-attr]
    clock.advance(31)
    assert code_in(mailbox.wait_for("gil@example.com")[0])
    deadline = time.monotonic() + 5
    while (row := make.client.portal.call(outbox_state)[0])["sent_at"] is None:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert row["attempts"] == 2
    assert len(mailbox.to("gil@example.com")) == 1


def test_two_processes_send_each_queued_email_once(
    mailbox: Mailbox, app_factory: Any, clock: FakeClock
) -> None:
    # Two servers on one database, both draining the outbox as fast as they can.
    first = Factory(app_factory(clock=clock, **mail_settings(mailbox)))
    app_factory(clock=clock, **{**mail_settings(mailbox), "outbox_poll_interval": 0.01})
    project = first.project()
    addresses = [f"agent{n}@example.com" for n in range(12)]
    for address in addresses:
        first.invite(project, address)
    for address in addresses:
        mailbox.wait_for(address)
    time.sleep(0.5)  # anything sent twice would have arrived by now
    assert sorted(m["To"] for m in mailbox.messages) == sorted(addresses)


def test_a_project_can_turn_reply_emails_off(
    make: Factory, mailbox: Mailbox, clock: FakeClock
) -> None:
    project = make.project()
    set_project(make, project, continuity_emails=False)
    visitor = proven_visitor(make, mailbox, project, "hal@example.com")
    rid = wrote_and_left(visitor, clock)
    reply(make, project, rid, "Hello!")
    settle(make)
    assert replies_to(mailbox, "hal@example.com") == []
