"""The e-mail-verified tier: one-time codes through a real SMTP server on loopback."""

from __future__ import annotations

from typing import Any

from frontdesk.clock import FakeClock
from tests.conftest import Factory, Project, Visitor
from tests.mailbox import Mailbox, body_of, code_in, mail_settings


def ask_code(visitor: Visitor, email: str) -> Any:
    return visitor.client.post(
        f"/{visitor.project_id}/verifications/email", json={"email": email},
        headers=visitor.headers,
    )


def confirm(visitor: Visitor, email: str, code: str) -> Any:
    return visitor.client.post(
        f"/{visitor.project_id}/verifications/email/confirm",
        json={"email": email, "code": code}, headers=visitor.headers,
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def lead_of(make: Factory, project: Project, visitor: Visitor) -> dict[str, Any]:
    r = make.client.get(f"/{project.id}/leads", params={"text": visitor.id},
                        headers=project.owner.headers)
    leads = [lead for lead in r.json()["leads"] if lead["lead_id"] == visitor.id]
    assert len(leads) == 1, r.text
    return leads[0]


def test_a_code_proves_an_address_once(mailing: Factory, mailbox: Mailbox) -> None:
    project = mailing.project()
    visitor = mailing.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello, about my fees").status_code == 200
    r = ask_code(visitor, " Ada@Example.com ")
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "ada@example.com" and r.json()["codeLength"] == 6
    [message] = mailbox.wait_for("ada@example.com")
    code = code_in(message)
    r = confirm(visitor, "ada@example.com", code)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tier"] == "email_verified" and body["requests"] == [rid]
    info = body["senderAuthInfo"]
    assert info["authVar"]["sign_in_provider"] == "email_code" and info["verified"] is False
    assert info["emailVerified"]["email"] == "ada@example.com"
    # Once: the same code again is refused with a stable code.
    r = confirm(visitor, "ada@example.com", code)
    assert r.status_code == 400 and r.json()["code"] == "code_used"
    # The contact has the address with its provenance; the conversation has the new tier.
    lead = lead_of(mailing, project, visitor)
    assert lead["email"] == "ada@example.com"
    assert lead["provenance"]["email"]["source"] == "email_code"
    conversation = mailing.client.get(f"/{project.id}/requests/{rid}",
                                      headers=project.owner.headers).json()
    assert conversation["tier"] == "email_verified" and conversation["isAuthenticated"] is False
    assert conversation["attributes"]["senderAuthInfo"] == info
    messages = mailing.client.get(f"/{project.id}/requests/{rid}/messages",
                                  headers=visitor.headers).json()
    system = [m for m in messages if m["senderKind"] == "system"]
    assert system[-1]["attributes"] == {"subtype": "identity_verified", "tier": "email_verified"}
    audit = mailing.client.get(f"/{project.id}/audit", headers=project.owner.headers).json()
    types = [e["type"] for e in audit["events"]]
    assert "email.verified" in types and "email.code_sent" in types


def test_five_wrong_codes_lock_it(mailing: Factory, mailbox: Mailbox) -> None:
    visitor = mailing.visitor(mailing.project())
    assert ask_code(visitor, "bob@example.com").status_code == 200
    code = code_in(mailbox.wait_for("bob@example.com")[0])
    for left in (4, 3, 2, 1):
        r = confirm(visitor, "bob@example.com", wrong(code))
        assert r.status_code == 400 and r.json()["code"] == "invalid_code"
        assert r.json()["details"][0]["attemptsLeft"] == left
    r = confirm(visitor, "bob@example.com", wrong(code))
    assert r.json()["code"] == "code_locked"
    # Locked: even the right code is refused now.
    r = confirm(visitor, "bob@example.com", code)
    assert r.status_code == 400 and r.json()["code"] == "code_locked"


def test_an_expired_code_fails(mailing: Factory, mailbox: Mailbox, clock: FakeClock) -> None:
    visitor = mailing.visitor(mailing.project())
    assert ask_code(visitor, "cy@example.com").status_code == 200
    code = code_in(mailbox.wait_for("cy@example.com")[0])
    clock.advance(601)
    r = confirm(visitor, "cy@example.com", code)
    assert r.status_code == 400 and r.json()["code"] == "code_expired"


def test_a_code_is_bound_to_its_visitor_and_address(mailing: Factory, mailbox: Mailbox) -> None:
    project = mailing.project()
    visitor, other = mailing.visitor(project), mailing.visitor(project)
    assert ask_code(visitor, "dee@example.com").status_code == 200
    code = code_in(mailbox.wait_for("dee@example.com")[0])
    r = confirm(other, "dee@example.com", code)
    assert r.status_code == 400 and r.json()["code"] == "no_pending_code"
    r = confirm(visitor, "someone@example.com", code)
    assert r.json()["code"] == "no_pending_code"
    # A newer code replaces the older one.
    assert ask_code(visitor, "dee@example.com").status_code == 200
    newer = code_in(mailbox.wait_for("dee@example.com", 2)[1])
    if newer != code:
        assert confirm(visitor, "dee@example.com", code).json()["code"] == "invalid_code"
    assert confirm(visitor, "dee@example.com", newer).status_code == 200


def test_only_anonymous_visitors_and_no_agents(mailing: Factory) -> None:
    project = mailing.project()
    signed_in = mailing.visitor(project, authenticated=True, email="eve@example.com")
    r = ask_code(signed_in, "eve@example.com")
    assert r.status_code == 409 and r.json()["code"] == "already_authenticated"
    r = mailing.client.post(f"/{project.id}/verifications/email",
                            json={"email": "x@example.com"}, headers=project.owner.headers)
    assert r.status_code == 403


def test_the_code_is_never_stored_in_clear(mailing: Factory, mailbox: Mailbox) -> None:
    visitor = mailing.visitor(mailing.project())
    assert ask_code(visitor, "fay@example.com").status_code == 200
    code = code_in(mailbox.wait_for("fay@example.com")[0])
    services = mailing.client.app.state.services  # type: ignore[attr-defined]

    async def dump() -> str:
        rows = await services.db.fetch_all("SELECT * FROM email_codes")
        rows += await services.db.fetch_all("SELECT * FROM outbox")
        return repr(rows)

    stored = mailing.client.portal.call(dump)  # type: ignore[union-attr]
    assert code not in stored and "fay@example.com" in stored


def test_codes_are_rate_limited_per_address(
    mailbox: Mailbox, app_factory: Any, clock: FakeClock
) -> None:
    client = app_factory(clock=clock, email_code_rate_per_address=2, **mail_settings(mailbox))
    make = Factory(client)
    project = make.project()
    first, second = make.visitor(project), make.visitor(project)
    assert ask_code(first, "gus@example.com").status_code == 200
    assert ask_code(second, "gus@example.com").status_code == 200
    r = ask_code(first, "GUS@example.com")
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert "Retry-After" in r.headers
    assert ask_code(first, "other@example.com").status_code == 200


def test_without_smtp_nothing_is_sent_and_it_says_why(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    r = ask_code(visitor, "hal@example.com")
    assert r.status_code == 503 and r.json()["code"] == "email_unavailable"
    availability = make.client.get(f"/projects/{project.id}/availability").json()
    assert availability["emailDelivery"] == {"available": False, "reason": "smtp_not_configured"}


def test_a_typed_email_is_not_proven(mailing: Factory, mailbox: Mailbox) -> None:
    project = mailing.project()
    visitor = mailing.visitor(project, email="ivy@example.com")
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hi", attributes={"userEmail": "ivy@example.com"}).status_code == 200
    lead = lead_of(mailing, project, visitor)
    assert lead["email"] == "ivy@example.com"
    assert lead["provenance"]["email"]["source"] == "visitor"
    conversation = mailing.client.get(f"/{project.id}/requests/{rid}",
                                      headers=project.owner.headers).json()
    assert conversation["tier"] == "anonymous"
    assert body_of  # the mailbox stays empty for this address
    assert mailbox.to("ivy@example.com") == []


def test_an_invitation_emails_its_link_when_smtp_is_configured(
    mailing: Factory, mailbox: Mailbox
) -> None:
    project = mailing.project()
    invite = mailing.invite(project, "newbie@example.com")
    [message] = mailbox.wait_for("newbie@example.com")
    assert invite["acceptUrl"] in body_of(message)
    services = mailing.client.app.state.services  # type: ignore[attr-defined]

    async def outbox() -> str:
        return repr(await services.db.fetch_all("SELECT * FROM outbox"))

    assert invite["token"] not in mailing.client.portal.call(outbox)  # type: ignore[union-attr]


def test_erasing_the_contact_erases_its_codes_and_emails(
    mailing: Factory, mailbox: Mailbox
) -> None:
    project = mailing.project()
    visitor = mailing.visitor(project)
    assert visitor.send(visitor.new_request_id(), "hi").status_code == 200
    assert ask_code(visitor, "jo@example.com").status_code == 200
    code = code_in(mailbox.wait_for("jo@example.com")[0])
    assert confirm(visitor, "jo@example.com", code).status_code == 200
    lead = lead_of(mailing, project, visitor)
    r = mailing.client.delete(f"/{project.id}/leads/{lead['_id']}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    services = mailing.client.app.state.services  # type: ignore[attr-defined]

    async def left() -> str:
        rows = await services.db.fetch_all("SELECT * FROM email_codes")
        rows += await services.db.fetch_all("SELECT * FROM outbox")
        return repr(rows)

    assert "jo@example.com" not in mailing.client.portal.call(left)  # type: ignore[union-attr]


def test_an_email_proof_answers_a_step_up_and_releases_a_held_conversation(
    mailing: Factory, mailbox: Mailbox
) -> None:
    project = mailing.project()
    owner = project.owner.headers
    fees = mailing.client.post(f"/{project.id}/departments",
                               json={"name": "Fees", "minTier": "email_verified"},
                               headers=owner).json()
    visitor = mailing.visitor(project)
    asked_rid, held_rid = visitor.new_request_id(), visitor.new_request_id()
    assert visitor.send(asked_rid, "a question").status_code == 200
    assert visitor.send(held_rid, "about fees", departmentid=fees["_id"]).status_code == 200
    assert mailing.client.get(f"/{project.id}/requests/{held_rid}", headers=owner
                              ).status_code == 404
    r = mailing.client.post(f"/{project.id}/requests/{asked_rid}/verification_requests",
                            json={}, headers=owner)
    assert r.status_code == 200 and r.json()["tier"] == "email_verified"
    assert ask_code(visitor, "kim@example.com").status_code == 200
    code = code_in(mailbox.wait_for("kim@example.com")[0])
    r = confirm(visitor, "kim@example.com", code)
    assert sorted(r.json()["requests"]) == sorted([asked_rid, held_rid])
    asked = mailing.client.get(f"/{project.id}/requests/{asked_rid}", headers=owner).json()
    assert asked["verificationRequest"]["status"] == "verified"
    assert asked["tier"] == "email_verified"
    held = mailing.client.get(f"/{project.id}/requests/{held_rid}", headers=owner)
    assert held.status_code == 200 and held.json()["heldForTier"] is None
    # An e-mail proof does not reach what needs a host-signed identity.
    r = mailing.client.post(f"/{project.id}/requests/{asked_rid}/verification_requests",
                            json={"tier": "authenticated"}, headers=owner)
    assert r.status_code == 200 and r.json()["status"] == "pending"
