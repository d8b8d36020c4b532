"""Step-up and per-department tiers: agents ask the visitor to verify; departments that need a
tier never see a conversation below it."""

from __future__ import annotations

from typing import Any

from tests.conftest import Factory, Project, Visitor, sign_customer_token


def ask(make: Factory, project: Project, rid: str, headers: dict[str, str],
        **body: Any) -> Any:
    return make.client.post(f"/{project.id}/requests/{rid}/verification_requests", json=body,
                            headers=headers)


def conversation(make: Factory, project: Project, rid: str) -> Any:
    return make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)


def system_lines(make: Factory, project: Project, rid: str, visitor: Visitor) -> list[Any]:
    messages = make.client.get(f"/{project.id}/requests/{rid}/messages",
                               headers=visitor.headers).json()
    return [m["attributes"] for m in messages if m["senderKind"] == "system"]


def sign_in_with_merge(make: Factory, project: Project, anonymous: Visitor, **claims: Any) -> Any:
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, **claims)
    r = make.client.post("/auth/signinWithCustomToken",
                         headers={"Authorization": "JWT " + token},
                         json={"anonymous_token": anonymous.token})
    assert r.status_code == 200, r.text
    return r.json()


def test_an_agent_asks_and_a_signed_in_visitor_upgrades_the_conversation(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "what are my fees?").status_code == 200
    r = ask(make, project, rid, project.owner.headers, tier="authenticated")
    assert r.status_code == 200, r.text
    asked = r.json()
    assert asked["status"] == "pending" and asked["tier"] == "authenticated"
    assert asked["message"]["attributes"]["subtype"] == "verification_requested"
    seen = make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers).json()
    assert seen["verificationRequest"]["_id"] == asked["_id"]
    assert system_lines(make, project, rid, visitor)[-1]["tier"] == "authenticated"
    # The visitor may not ask itself; an agent may not ask twice for a tier reached.
    assert ask(make, project, rid, visitor.headers).status_code == 403
    body = sign_in_with_merge(make, project, visitor, _id="student-42", firstname="Ada")
    assert body["merge"]["merged"] is True
    after = conversation(make, project, rid).json()
    assert after["tier"] == "authenticated" and after["isAuthenticated"] is True
    assert after["attributes"]["senderAuthInfo"]["authVar"]["uid"] == "student-42"
    assert after["verificationRequest"]["status"] == "verified"
    signed_in = Visitor(make.client, body["token"], body["user"], project.id)
    assert system_lines(make, project, rid, signed_in)[-1] == {
        "subtype": "identity_verified", "tier": "authenticated"
    }
    r = ask(make, project, rid, project.owner.headers, tier="email_verified")
    assert r.status_code == 409 and r.json()["code"] == "already_verified"


def test_conversations_nobody_asked_about_stay_anonymous(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello").status_code == 200
    sign_in_with_merge(make, project, visitor, _id="student-43")
    after = conversation(make, project, rid).json()
    assert after["tier"] == "anonymous" and after["verificationRequest"] is None


def department(make: Factory, project: Project, min_tier: str, **extra: Any) -> dict[str, Any]:
    r = make.client.post(f"/{project.id}/departments",
                         json={"name": "Fees", "minTier": min_tier, **extra},
                         headers=project.owner.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["minTier"] == min_tier
    return body


def test_a_department_for_authenticated_visitors_never_lists_an_anonymous_one(
    make: Factory,
) -> None:
    project = make.project()
    agent = make.member(project)
    fees = department(make, project, "authenticated", agents=[agent.id])
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    r = visitor.send(rid, "my grades please", departmentid=fees["_id"])
    assert r.status_code == 200, r.text
    assert r.json()["request"]["heldForTier"] == "authenticated"
    assert r.json()["request"]["participants"] == []
    for who in (agent, project.owner):
        listed = make.client.get(f"/{project.id}/requests", headers=who.headers).json()
        assert rid not in [c["request_id"] for c in listed["requests"]]
        assert make.client.get(f"/{project.id}/requests/{rid}", headers=who.headers
                               ).status_code == 404
        r = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "hi"},
                             headers=who.headers)
        assert r.status_code == 404
    assert system_lines(make, project, rid, visitor)[-1] == {
        "subtype": "verification_required", "tier": "authenticated"
    }
    # Once the visitor signs in (with the merge proof), it reaches the department's agent.
    sign_in_with_merge(make, project, visitor, _id="student-44")
    listed = make.client.get(f"/{project.id}/requests", headers=agent.headers).json()
    [found] = [c for c in listed["requests"] if c["request_id"] == rid]
    assert found["heldForTier"] is None and found["tier"] == "authenticated"
    assert found["participants"] == [agent.id]


def test_an_authenticated_visitor_goes_straight_through(make: Factory) -> None:
    project = make.project()
    fees = department(make, project, "authenticated")
    visitor = make.visitor(project, authenticated=True)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hi", departmentid=fees["_id"]).status_code == 200
    assert conversation(make, project, rid).json()["heldForTier"] is None


def test_agents_cannot_move_a_conversation_below_a_departments_tier(make: Factory) -> None:
    project = make.project()
    fees = department(make, project, "email_verified")
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hi").status_code == 200
    r = make.client.put(f"/{project.id}/requests/{rid}/departments",
                        json={"departmentid": fees["_id"]}, headers=project.owner.headers)
    assert r.status_code == 409 and r.json()["code"] == "tier_required"


def test_department_trust_fields_update_and_validate(make: Factory) -> None:
    project = make.project()
    fees = department(make, project, "email_verified", offHoursMessage="Back at 9.")
    base = f"/{project.id}/departments/{fees['_id']}"
    hours = {"tzname": "Europe/Rome", "1": [{"start": "09:00", "end": "18:00"}]}
    r = make.client.put(base, json={"operatingHours": hours}, headers=project.owner.headers)
    assert r.status_code == 200
    assert r.json()["operatingHours"] == hours and r.json()["offHoursMessage"] == "Back at 9."
    r = make.client.put(base, json={"offHoursMessage": None}, headers=project.owner.headers)
    assert r.json()["offHoursMessage"] is None and r.json()["operatingHours"] == hours
    r = make.client.put(base, json={"minTier": "wizard"}, headers=project.owner.headers)
    assert r.status_code == 422
    r = make.client.put(base, json={"operatingHours": {"tzname": "Mars/Base"}},
                        headers=project.owner.headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_timezone"


def test_lowering_a_departments_tier_releases_what_it_held(make: Factory) -> None:
    project = make.project()
    fees = department(make, project, "authenticated")
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hi", departmentid=fees["_id"]).status_code == 200
    assert conversation(make, project, rid).status_code == 404
    r = make.client.put(f"/{project.id}/departments/{fees['_id']}",
                        json={"minTier": "anonymous"}, headers=project.owner.headers)
    assert r.status_code == 200
    assert conversation(make, project, rid).json()["heldForTier"] is None
