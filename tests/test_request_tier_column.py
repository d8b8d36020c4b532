"""``requests.auth_tier`` (migration m0022) always says what the conversation's
senderAuthInfo says, whatever wrote it: a first message, a customer's sign-in, an e-mail code
that upgrades open conversations, a merge, agents' edits of the attributes. The agents' list
reads its tiers from that column, so a stale one would show the wrong shield."""

from __future__ import annotations

from typing import Any

import orjson

from frontdesk.auth.tiers import tier_of_auth_info
from tests.conftest import Factory
from tests.mailbox import Mailbox, code_in
from tests.test_email_codes import ask_code, confirm
from tests.test_merges import customer_signin


def _stored(make: Factory) -> list[dict[str, Any]]:
    services = make.client.app.state.services  # type: ignore[attr-defined]
    rows: list[dict[str, Any]] = make.client.portal.call(  # type: ignore[union-attr]
        services.db.fetch_all, "SELECT request_id, attributes, auth_tier FROM requests"
    )
    return rows


def test_the_stored_tier_follows_every_write_of_sender_auth_info(
    mailing: Factory, mailbox: Mailbox
) -> None:
    make = mailing
    project = make.project()
    owner = project.owner
    anonymous = make.visitor(project)
    kept_anonymous = anonymous.new_request_id()
    assert anonymous.send(kept_anonymous, "hello").status_code == 200
    merged = make.visitor(project)
    merged_rid = merged.new_request_id()
    assert merged.send(merged_rid, "before logging in").status_code == 200
    assert customer_signin(make, project, merged, _id="alice").status_code == 200
    customer = make.visitor(project, authenticated=True, _id="bob")
    customer_rid = customer.new_request_id()
    assert customer.send(customer_rid, "signed in").status_code == 200
    r = make.client.patch(f"/{project.id}/requests/{customer_rid}/attributes",
                          json={"plan": "gold"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    prover = make.visitor(project)
    proven_rid = prover.new_request_id()
    assert prover.send(proven_rid, "about my fees").status_code == 200
    assert ask_code(prover, "ada@example.com").status_code == 200
    [mail] = mailbox.wait_for("ada@example.com")
    assert confirm(prover, "ada@example.com", code_in(mail)).status_code == 200

    rows = _stored(make)
    tiers = {row["request_id"]: row["auth_tier"] for row in rows}
    assert tiers == {
        kept_anonymous: "anonymous", merged_rid: "anonymous",  # a merge does not retro-verify
        customer_rid: "authenticated", proven_rid: "email_verified",
    }
    for row in rows:
        attributes = orjson.loads(row["attributes"])
        assert row["auth_tier"] == tier_of_auth_info(attributes.get("senderAuthInfo"))
    inbox = make.client.get(f"/{project.id}/requests", params={"view": "inbox"},
                            headers=owner.headers).json()["requests"]
    assert {row["request_id"]: row["tier"] for row in inbox} == tiers
