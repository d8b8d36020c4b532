"""A contact's sessions: listed for agents, revoked by admins, effective at once."""

from __future__ import annotations

from typing import Any

from frontdesk.realtime.events import Event, SessionRevoked
from tests.conftest import Factory, Project, Visitor


def record_events(make: Factory) -> list[Event]:
    seen: list[Event] = []

    async def listener(event: Event) -> None:
        seen.append(event)

    app: Any = make.client.app
    app.state.services.broker.subscribe(listener)
    return seen


def two_sessions(make: Factory, project: Project) -> tuple[Visitor, Visitor]:
    first = make.visitor(project, authenticated=True, _id="erin")
    first.send(first.new_request_id(), "hi")
    second = make.visitor(project, authenticated=True, _id="erin")
    return first, second


def test_sessions_are_listed_and_one_can_be_ended(make: Factory) -> None:
    project = make.project()
    phone, laptop = two_sessions(make, project)
    listed = make.client.get(f"/{project.id}/leads/erin/sessions",
                             headers=project.owner.headers).json()
    assert len(listed) == 2 and all(s["isAuthenticated"] for s in listed)
    assert listed[0]["kid"] == project.kid and listed[0]["signInProvider"] == "custom"
    events = record_events(make)
    r = make.client.delete(f"/{project.id}/leads/erin/sessions/{listed[0]['jti']}",
                           headers=project.owner.headers)
    assert r.json()["revoked"] == [listed[0]["jti"]]
    assert events == [SessionRevoked(project_id=project.id, jti=listed[0]["jti"])]
    gone = make.client.get(f"/{project.id}/requests/me", headers=phone.headers)
    assert (gone.status_code, gone.json()["code"]) == (401, "session_revoked")
    assert make.client.get(f"/{project.id}/requests/me", headers=laptop.headers
                           ).status_code == 200
    again = make.client.delete(f"/{project.id}/leads/erin/sessions/{listed[0]['jti']}",
                               headers=project.owner.headers)
    assert (again.status_code, again.json()["code"]) == (404, "session_not_found")


def test_log_this_person_out_everywhere(make: Factory) -> None:
    project = make.project()
    phone, laptop = two_sessions(make, project)
    events = record_events(make)
    r = make.client.delete(f"/{project.id}/leads/erin/sessions", headers=project.owner.headers)
    assert len(r.json()["revoked"]) == 2
    assert {e.jti for e in events if isinstance(e, SessionRevoked)} == set(r.json()["revoked"])
    for visitor in (phone, laptop):
        refresh = make.client.post("/auth/signinWithCustomToken", headers=visitor.headers)
        assert refresh.json()["code"] == "session_revoked"
    assert make.client.get(f"/{project.id}/leads/erin/sessions",
                           headers=project.owner.headers).json() == []
    audit = make.client.get(f"/{project.id}/audit?type=session.revoked",
                            headers=project.owner.headers).json()["events"]
    assert audit[0]["subject"] == "erin" and audit[0]["details"]["all"] is True


def test_revoking_needs_an_admin_of_this_project(make: Factory) -> None:
    project, other = make.project(), make.project()
    two_sessions(make, project)
    agent = make.member(project, "agent")
    r = make.client.delete(f"/{project.id}/leads/erin/sessions", headers=agent.headers)
    assert (r.status_code, r.json()["code"]) == (403, "insufficient_role")
    r = make.client.delete(f"/{project.id}/leads/erin/sessions", headers=other.owner.headers)
    assert (r.status_code, r.json()["code"]) == (403, "not_a_member")
    r = make.client.delete(f"/{other.id}/leads/erin/sessions", headers=other.owner.headers)
    assert (r.status_code, r.json()["code"]) == (404, "lead_not_found")
    assert len(make.client.get(f"/{project.id}/leads/erin/sessions",
                               headers=project.owner.headers).json()) == 2


def test_a_visitor_logout_is_audited(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project, authenticated=True, _id="jo")
    r = make.client.post("/auth/logout", headers=visitor.headers)
    assert r.json()["revoked"] is True
    events = make.client.get(f"/{project.id}/audit?type=session.revoked",
                             headers=project.owner.headers).json()["events"]
    assert [(e["actor"], e["details"]["reason"]) for e in events] == [("jo", "logout")]
