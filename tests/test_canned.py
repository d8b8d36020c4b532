"""Canned responses: an agent's own and the project's shared ones, who may change which, and
their placeholders filled for a conversation (``|verified`` only from a signed identity)."""

from __future__ import annotations

from typing import Any

from frontdesk.actions.canned import fill
from tests.conftest import Agent, Factory, Project
from tests.security.conftest import assert_error


def _create(make: Factory, project: Project, author: Agent, **body: Any) -> Any:
    return make.client.post(f"/{project.id}/canned", json=body, headers=author.headers)


def _titles(make: Factory, project: Project, agent: Agent) -> list[str]:
    r = make.client.get(f"/{project.id}/canned", headers=agent.headers)
    assert r.status_code == 200, r.text
    return [c["title"] for c in r.json()]


def test_an_agent_sees_its_own_and_the_shared_ones_in_tiledesks_shape(make: Factory) -> None:
    project = make.project()
    ann, bob = make.member(project), make.member(project)
    r = _create(make, project, ann, title="Greeting", text="Hello {{visitor.firstname}}!")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"_id", "id", "id_project", "title", "text", "shared", "createdBy",
                         "createdAt", "updatedAt"}
    assert body["shared"] is False and body["createdBy"] == ann.id
    assert _create(make, project, bob, title="Bob's", text="x").status_code == 200
    shared = _create(make, project, project.owner, title="Refunds", text="y", shared=True)
    assert shared.json()["shared"] is True

    assert _titles(make, project, ann) == ["Greeting", "Refunds"]
    assert _titles(make, project, bob) == ["Bob's", "Refunds"]
    assert _titles(make, project, project.owner) == ["Refunds"]  # not even admins see others'
    other = make.project()
    assert_error(make.client.get(f"/{project.id}/canned", headers=other.owner.headers), 403,
                 "not_a_member")
    assert make.client.get(f"/{other.id}/canned", headers=other.owner.headers).json() == []


def test_another_agents_own_is_refused_and_shared_ones_are_the_admins(make: Factory) -> None:
    project = make.project()
    ann, bob = make.member(project), make.member(project)
    admin = make.member(project, "admin")
    mine = _create(make, project, ann, title="Mine", text="mine").json()["_id"]
    shared = _create(make, project, admin, title="Ours", text="ours", shared=True).json()["_id"]
    base = f"/{project.id}/canned"

    for who in (bob, admin, project.owner):  # another's own: refused to everyone else
        assert_error(make.client.get(f"{base}/{mine}", headers=who.headers), 403,
                     "not_your_canned_response")
        assert_error(make.client.put(f"{base}/{mine}", json={"text": "stolen"},
                                     headers=who.headers), 403, "not_your_canned_response")
        assert_error(make.client.delete(f"{base}/{mine}", headers=who.headers), 403,
                     "not_your_canned_response")
    # An agent may not share, nor change or delete a shared one.
    assert_error(_create(make, project, ann, text="t", shared=True), 403, "insufficient_role")
    assert_error(make.client.put(f"{base}/{mine}", json={"shared": True}, headers=ann.headers),
                 403, "insufficient_role")
    assert_error(make.client.put(f"{base}/{shared}", json={"text": "no"}, headers=bob.headers),
                 403, "insufficient_role")
    assert_error(make.client.delete(f"{base}/{shared}", headers=bob.headers), 403,
                 "insufficient_role")
    assert make.client.get(f"{base}/{shared}", headers=bob.headers).json()["text"] == "ours"
    assert make.client.get(f"{base}/{mine}", headers=ann.headers).json()["text"] == "mine"
    assert_error(make.client.get(f"{base}/{'0' * 24}", headers=ann.headers), 404,
                 "canned_response_not_found")

    changed = make.client.put(f"{base}/{mine}", json={"title": "Renamed", "text": "new"},
                              headers=ann.headers)
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["text"]) == ("Renamed", "new")
    by_owner = make.client.put(f"{base}/{shared}", json={"shared": False, "text": "owner's"},
                               headers=project.owner.headers)
    assert by_owner.json()["shared"] is False  # no longer shared: now only its author's
    assert_error(make.client.get(f"{base}/{shared}", headers=bob.headers), 403,
                 "not_your_canned_response")
    assert make.client.delete(f"{base}/{mine}", headers=ann.headers).status_code == 200
    assert _titles(make, project, ann) == []
    # Bad input: no text, text too long; nothing written.
    assert _create(make, project, ann, title="Empty").status_code == 422
    assert _create(make, project, ann, text="x" * 8193).status_code == 422
    assert _titles(make, project, ann) == []


def _fill(make: Factory, project: Project, agent: Agent, cid: str, rid: str) -> Any:
    r = make.client.get(f"/{project.id}/canned/{cid}/fill", params={"request_id": rid},
                        headers=agent.headers)
    assert r.status_code == 200, r.text
    return r.json()


TEMPLATE = ("Hi {{visitor.firstname}} {{ visitor.lastname }} ({{visitor.fullname}}), "
            "{{agent.firstname}} of {{project.name}} here. Mail: {{visitor.email}}; "
            "verified: {{visitor.email|verified}} {{visitor.fullname | verified}}")


def test_placeholders_fill_from_the_contact_and_verified_only_from_a_signature(
    make: Factory,
) -> None:
    project = make.project()
    cid = _create(make, project, project.owner, title="t", text=TEMPLATE).json()["_id"]

    anonymous = make.visitor(project, email="sam@example.com")
    rid = anonymous.new_request_id()
    assert anonymous.send(rid, "hi", senderFullname="Sam Self").status_code == 200
    filled = _fill(make, project, project.owner, cid, rid)
    # Typed by an anonymous visitor: filled, but never where the text asks for verified.
    assert filled["text"] == (
        "Hi Sam Self (Sam Self), Ada of Acme here. Mail: sam@example.com; "
        "verified: {{visitor.email|verified}} {{visitor.fullname | verified}}"
    )
    assert filled["unfilled"] == ["visitor.email|verified", "visitor.fullname|verified"]

    signed = make.visitor(project, authenticated=True, firstname="Vera", lastname="Signed",
                          email="vera@example.com")
    rid2 = signed.new_request_id()
    assert signed.send(rid2, "hi").status_code == 200
    filled = _fill(make, project, project.owner, cid, rid2)
    assert filled == {
        "text": "Hi Vera Signed (Vera Signed), Ada of Acme here. Mail: vera@example.com; "
                "verified: vera@example.com Vera Signed",
        "unfilled": [],
    }

    # A visitor who gave no name has only the server's made-up "guest#…": nothing to fill.
    nameless = make.visitor(project)
    rid3 = nameless.new_request_id()
    assert nameless.send(rid3, "hi").status_code == 200
    filled = _fill(make, project, project.owner, cid, rid3)
    assert "guest#" not in filled["text"]
    assert filled["text"].startswith("Hi {{visitor.firstname}} {{ visitor.lastname }} "
                                     "({{visitor.fullname}}), Ada of Acme")
    assert filled["unfilled"][:4] == ["visitor.firstname", "visitor.lastname",
                                      "visitor.fullname", "visitor.email"]

    # Someone else's conversation or canned response: refused as reading them would be.
    other = make.project()
    assert make.client.get(f"/{other.id}/canned/{cid}/fill", params={"request_id": rid},
                           headers=other.owner.headers).status_code == 404
    bob = make.member(project)
    assert_error(make.client.get(f"/{project.id}/canned/{cid}/fill",
                                 params={"request_id": rid}, headers=bob.headers),
                 403, "not_your_canned_response")


def test_fill_leaves_what_it_cannot_fill_as_written() -> None:
    values = {"agent.firstname": "Ada", "project.name": None}
    known = {"visitor.firstname": "Sam", "visitor.email": None}
    verified = {"visitor.firstname": None, "visitor.email": "v@example.com"}
    assert fill("{{visitor.firstname}} {{visitor.firstname|verified}} {{project.name}} "
                "{{visitor.email|verified}} {{visitor.email}} {{nope.x}} {{agent.firstname}}",
                values, known, verified) == {
        "text": "Sam {{visitor.firstname|verified}} {{project.name}} v@example.com "
                "{{visitor.email}} {{nope.x}} Ada",
        "unfilled": ["visitor.firstname|verified", "project.name", "visitor.email", "nope.x"],
    }
