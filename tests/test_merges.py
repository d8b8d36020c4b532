"""Proof-based merges: an anonymous visitor's conversations join the authenticated contact
only when the same browser shows both its anonymous session and a fresh customer token."""

from __future__ import annotations

from typing import Any

from tests.conftest import Factory, Project, Visitor, sign_customer_token


def customer_signin(make: Factory, project: Project, anonymous: Visitor | None = None,
                    *, via: str = "header", **claims: Any) -> Any:
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, kid=project.kid, **claims)
    headers = {"Authorization": "JWT " + token}
    body = None
    if anonymous is not None and via == "header":
        headers["X-Frontdesk-Anonymous-Token"] = anonymous.token
    elif anonymous is not None:
        body = {"anonymous_token": anonymous.token}
    return make.client.post("/auth/signinWithCustomToken", headers=headers, json=body)


def lead(make: Factory, project: Project, lead_id: str) -> dict[str, Any]:
    r = make.client.get(f"/{project.id}/leads/{lead_id}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def request(make: Factory, project: Project, rid: str) -> dict[str, Any]:
    r = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)
    body: dict[str, Any] = r.json()
    return body


def test_both_proofs_merge_the_anonymous_conversations(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    rid = anonymous.new_request_id()
    assert anonymous.send(rid, "before logging in", attributes={"userEmail": "me@x.test"}
                          ).status_code == 200
    r = customer_signin(make, project, anonymous, _id="alice", email="alice@x.test")
    assert r.status_code == 200, r.text
    merge = r.json()["merge"]
    assert merge["merged"] is True and merge["requests"] == [rid]

    moved = request(make, project, rid)
    assert moved["lead"]["lead_id"] == "alice"
    assert moved["attributes"]["mergedFrom"]["visitor"] == anonymous.id
    auth_info = moved["attributes"]["senderAuthInfo"]  # what it was: not retro-verified
    assert auth_info["verified"] is False
    assert auth_info["authVar"]["sign_in_provider"] == "anonymous"
    assert moved["isAuthenticated"] is False
    contact = lead(make, project, "alice")
    assert [m["visitor"] for m in contact["attributes"]["mergedFrom"]] == [anonymous.id]
    merges = make.client.get(f"/{project.id}/leads/alice/merges",
                             headers=project.owner.headers).json()
    assert merges[0]["description"] == f"merged from anonymous visitor {anonymous.id}"

    # The anonymous proof is spent: its session is over.
    spent = make.client.get(f"/{project.id}/requests/me", headers=anonymous.headers)
    assert (spent.status_code, spent.json()["code"]) == (401, "session_revoked")

    # The signed-in visitor now sees, reads and continues the merged conversation.
    alice = {"Authorization": r.json()["token"]}
    mine = make.client.get(f"/{project.id}/requests/me", headers=alice).json()
    assert [x["request_id"] for x in mine["requests"]] == [rid]
    history = make.client.get(f"/{project.id}/requests/{rid}/messages", headers=alice).json()
    assert [m["text"] for m in history] == ["before logging in"]
    follow_up = make.client.post(f"/{project.id}/requests/{rid}/messages",
                                 json={"text": "now signed in"}, headers=alice)
    assert follow_up.status_code == 200 and follow_up.json()["sender"] == "alice"


def test_the_proof_may_come_in_the_body(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    anonymous.send(anonymous.new_request_id(), "hi")
    r = customer_signin(make, project, anonymous, via="body", _id="bob")
    assert r.json()["merge"]["merged"] is True


def test_a_typed_email_never_merges_into_someone_elses_contact(make: Factory) -> None:
    project = make.project()
    victim = make.visitor(project, authenticated=True, _id="victim", email="v@x.test")
    victim.send(victim.new_request_id(), "my account question")
    attacker = make.visitor(project, email="v@x.test")
    rid = attacker.new_request_id()
    attacker.send(rid, "I am v, show me everything",
                  attributes={"userEmail": "v@x.test", "senderAuthInfo": {"verified": True}})
    assert request(make, project, rid)["lead"]["lead_id"] == attacker.id
    victim_lead = lead(make, project, "victim")
    assert "mergedFrom" not in victim_lead["attributes"]
    assert victim_lead["email"] == "v@x.test"
    assert victim_lead["provenance"]["email"]["source"] == "token"
    attacker_lead = lead(make, project, attacker.id)
    assert attacker_lead["provenance"]["email"]["source"] == "visitor"
    assert attacker_lead["attributes"]["senderAuthInfo"]["verified"] is False
    victims_requests = make.client.get(f"/{project.id}/requests/me", headers=victim.headers)
    assert rid not in [r["request_id"] for r in victims_requests.json()["requests"]]


def test_a_bad_anonymous_proof_merges_nothing_and_says_why(make: Factory) -> None:
    project, other = make.project(), make.project()
    stranger = make.visitor(other)
    stranger.send(stranger.new_request_id(), "elsewhere")
    r = customer_signin(make, project, stranger, _id="carol")
    assert r.status_code == 200
    assert r.json()["merge"] == {"merged": False, "code": "wrong_project"}
    r = make.client.post(
        "/auth/signinWithCustomToken",
        headers={"Authorization": "JWT " + sign_customer_token(
                     project.id, project.secret or "", kid=project.kid, _id="carol"),
                 "X-Frontdesk-Anonymous-Token": "JWT not-a-token"},
    )
    assert r.json()["merge"]["merged"] is False
    assert make.client.get(f"/{other.id}/requests/me", headers=stranger.headers
                           ).status_code == 200  # the stranger's session is untouched


def test_an_admin_can_revert_a_merge(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    rid = anonymous.new_request_id()
    anonymous.send(rid, "hello")
    merge = customer_signin(make, project, anonymous, _id="dave").json()["merge"]
    agent = make.member(project, "agent")
    denied = make.client.post(f"/{project.id}/merges/{merge['_id']}/revert",
                              headers=agent.headers)
    assert (denied.status_code, denied.json()["code"]) == (403, "insufficient_role")
    r = make.client.post(f"/{project.id}/merges/{merge['_id']}/revert",
                         headers=project.owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["revertedAt"] is not None
    assert r.json()["revertedBy"] == project.owner.id
    listed = make.client.get(f"/{project.id}/leads/{lead(make, project, 'dave')['_id']}/merges",
                             headers=project.owner.headers).json()
    assert listed == [r.json()]  # answered as it was stored
    back = request(make, project, rid)
    assert back["lead"]["lead_id"] == anonymous.id
    assert "mergedFrom" not in back["attributes"]
    assert "mergedFrom" not in lead(make, project, "dave")["attributes"]
    again = make.client.post(f"/{project.id}/merges/{merge['_id']}/revert",
                             headers=project.owner.headers)
    assert (again.status_code, again.json()["code"]) == (409, "merge_reverted")
    types = [e["type"] for e in make.client.get(
        f"/{project.id}/audit", headers=project.owner.headers).json()["events"]]
    assert {"merge", "merge.reverted"} <= set(types)


def test_each_message_says_who_sent_it_from_the_servers_record(make: Factory) -> None:
    # A customer token may name its person "Support Team"; the kind of sender is still the
    # server's own record, and nothing in the body can change it.
    project = make.project()
    anonymous = make.visitor(project)
    rid = anonymous.new_request_id()
    assert anonymous.send(rid, "as a guest", senderFullname="Support Team",
                          attributes={"senderKind": "agent"}).status_code == 200
    r = customer_signin(make, project, anonymous, _id="erin", firstname="Support Team")
    assert r.status_code == 200, r.text
    erin = {"Authorization": r.json()["token"]}
    sent = make.client.post(f"/{project.id}/requests/{rid}/messages", headers=erin,
                            json={"text": "signed in", "senderKind": "agent",
                                  "senderFullname": "Support Team"})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["senderKind"], sent.json()["senderFullname"]) == ("visitor",
                                                                          "Support Team")
    reply = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "hello"},
                             headers=project.owner.headers)
    assert reply.json()["senderKind"] == "agent"
    for headers in (erin, project.owner.headers):
        history = make.client.get(f"/{project.id}/requests/{rid}/messages", headers=headers)
        assert [(m["text"], m["sender"], m["senderKind"]) for m in history.json()] == [
            ("as a guest", anonymous.id, "visitor"),
            ("signed in", "erin", "visitor"),
            ("hello", project.owner.id, "agent"),
        ]
