"""The queue: waiting conversations are routed when an agent frees up."""

from __future__ import annotations

from typing import Any

from tests.conftest import Agent, Factory, Project


def _member_id(make: Factory, project: Project, agent: Agent) -> str:
    members = make.client.get(f"/{project.id}/project_users", headers=project.owner.headers)
    return next(m["_id"] for m in members.json() if m["id_user"]["_id"] == agent.id)


def _set(make: Factory, project: Project, agent: Agent, by: Agent | None = None,
         **changes: Any) -> dict[str, Any]:
    r = make.client.put(f"/{project.id}/project_users/{_member_id(make, project, agent)}",
                        json=changes, headers=(by or agent).headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _request(make: Factory, project: Project, rid: str) -> dict[str, Any]:
    r = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)
    body: dict[str, Any] = r.json()
    return body


def _waiting(make: Factory, project: Project, **body: Any) -> str:
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello", **body).status_code == 200
    return rid


def test_a_waiting_conversation_goes_to_an_agent_who_becomes_available(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    _set(make, project, project.owner, user_available=False)
    _set(make, project, agent, user_available=False)
    rid = _waiting(make, project)
    assert _request(make, project, rid)["status"] == 100

    r = make.client.put(f"/{project.id}/project_users", json={"user_available": True},
                        headers=agent.headers)
    assert r.status_code == 200
    routed = _request(make, project, rid)
    assert routed["status"] == 200 and routed["participants"] == [agent.id]


def test_closing_one_of_theirs_lets_an_agent_at_its_maximum_take_the_next(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    _set(make, project, project.owner, user_available=False)
    _set(make, project, agent, by=project.owner, max_assigned_chat=1)
    first, second, third = (_waiting(make, project) for _ in range(3))
    assert _request(make, project, first)["participants"] == [agent.id]
    assert _request(make, project, second)["status"] == 100
    assert _request(make, project, third)["status"] == 100

    r = make.client.put(f"/{project.id}/requests/{first}/close", headers=agent.headers)
    assert r.status_code == 200
    # The oldest waiting one is taken; the agent is at its maximum again.
    assert _request(make, project, second)["participants"] == [agent.id]
    assert _request(make, project, third)["status"] == 100

    # Closing a conversation nobody was assigned frees nobody.
    other = make.visitor(project)
    lone = other.new_request_id()
    other.send(lone, "x")
    make.client.put(f"/{project.id}/requests/{lone}/close", headers=project.owner.headers)
    assert _request(make, project, third)["status"] == 100

    # A higher maximum, or none (-1, as Tiledesk writes it), takes more.
    assert _set(make, project, agent, by=project.owner, max_assigned_chat=-1)[
        "max_assigned_chat"] is None
    assert _request(make, project, third)["participants"] == [agent.id]


def test_the_queue_respects_departments_and_maxima(make: Factory) -> None:
    project = make.project()
    owner = project.owner
    agent, other = make.member(project), make.member(project)
    for who in (owner, agent, other):
        _set(make, project, who, by=owner, user_available=False)
    r = make.client.post(f"/{project.id}/departments",
                         json={"name": "Billing", "agents": [other.id]}, headers=owner.headers)
    billing = r.json()["_id"]
    r = make.client.post(f"/{project.id}/departments",
                         json={"name": "Desk", "routing": "pooled"}, headers=owner.headers)
    pooled = r.json()["_id"]
    billing_rid = _waiting(make, project, departmentid=billing)
    pooled_rid = _waiting(make, project, departmentid=pooled)
    general = _waiting(make, project)

    _set(make, project, agent, by=owner, user_available=True, max_assigned_chat=0)
    assert _request(make, project, general)["status"] == 100  # no room at all
    _set(make, project, agent, by=owner, max_assigned_chat=5)
    assert _request(make, project, general)["participants"] == [agent.id]
    assert _request(make, project, billing_rid)["status"] == 100  # not its department
    assert _request(make, project, pooled_rid)["status"] == 100  # pooled: taken by hand

    _set(make, project, other, user_available=True)
    assert _request(make, project, billing_rid)["participants"] == [other.id]
    assert _request(make, project, pooled_rid)["status"] == 100


def test_only_admins_change_someone_elses_maximum(make: Factory) -> None:
    project = make.project()
    agent, other = make.member(project), make.member(project)
    r = make.client.put(f"/{project.id}/project_users/{_member_id(make, project, other)}",
                        json={"max_assigned_chat": 3}, headers=agent.headers)
    assert r.status_code == 403
    r = make.client.put(f"/{project.id}/project_users/{_member_id(make, project, other)}",
                        json={"max_assigned_chat": -2}, headers=project.owner.headers)
    assert r.status_code == 422
    assert _set(make, project, other, by=project.owner, max_assigned_chat=3)[
        "max_assigned_chat"] == 3
