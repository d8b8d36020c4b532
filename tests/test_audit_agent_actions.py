"""Agents' actions in the audit log: assignments, closing and reopening, role changes,
removals and tag deletions, each by whom and on what."""

from __future__ import annotations

from typing import Any

from tests.conftest import Agent, Factory, Project


def _events(make: Factory, project: Project, type: str) -> list[dict[str, Any]]:
    r = make.client.get(f"/{project.id}/audit?type={type}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def _membership_id(make: Factory, project: Project, agent: Agent) -> str:
    team = make.client.get(f"/{project.id}/project_users", headers=project.owner.headers).json()
    return str(next(m["_id"] for m in team if m["id_user"]["_id"] == agent.id))


def test_assignments_closing_and_reopening_are_recorded(make: Factory) -> None:
    project = make.project()
    owner = project.owner
    colleague = make.member(project, "agent")
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")  # routed to the owner, who is available: not an agent's action
    assert _events(make, project, "request.assigned") == []
    base = f"/{project.id}/requests/{rid}"

    make.client.put(f"{base}/participants", json=[], headers=owner.headers)
    make.client.put(f"{base}/assign", json={"assignee": owner.id}, headers=owner.headers)
    make.client.put(f"{base}/assign", json={"assignee": colleague.id}, headers=owner.headers)
    make.client.put(f"{base}/assign", json={"assignee": colleague.id}, headers=owner.headers)
    make.client.put(f"{base}/close", headers=colleague.headers)
    make.client.put(f"{base}/close", headers=colleague.headers)  # already closed: no event
    make.client.put(f"{base}/reopen", headers=owner.headers)

    assigned = _events(make, project, "request.assigned")
    assert [(e["actor"], e["subject"], e["details"]) for e in assigned] == [
        (owner.id, rid, {"from": [], "to": [owner.id]}),
    ]
    reassigned = _events(make, project, "request.reassigned")
    assert [(e["actor"], e["details"]) for e in reassigned] == [
        (owner.id, {"from": [owner.id], "to": [colleague.id]}),  # the repeat changed nothing
        (owner.id, {"from": [owner.id], "to": []}),
    ]
    closed = _events(make, project, "request.closed")
    assert [(e["actor"], e["subject"]) for e in closed] == [(colleague.id, rid)]
    reopened = _events(make, project, "request.reopened")
    assert [(e["actor"], e["subject"]) for e in reopened] == [(owner.id, rid)]


def test_a_visitor_closing_its_own_conversation_is_not_an_agent_action(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "bye")
    r = make.client.put(f"/{project.id}/requests/{rid}/closeg", headers=visitor.headers)
    assert r.status_code == 200
    assert _events(make, project, "request.closed") == []


def test_role_changes_and_removals_are_recorded(make: Factory) -> None:
    project = make.project()
    agent = make.member(project, "agent")
    membership = _membership_id(make, project, agent)
    path = f"/{project.id}/project_users/{membership}"
    r = make.client.put(path, json={"role": "admin"}, headers=project.owner.headers)
    assert r.status_code == 200, r.text
    make.client.put(path, json={"role": "admin"}, headers=project.owner.headers)  # no change
    refused = make.client.put(path, json={"role": "owner"}, headers=agent.headers)
    assert refused.status_code == 403
    assert make.client.delete(path, headers=project.owner.headers).status_code == 200

    changed = _events(make, project, "member.role_changed")
    assert [(e["actor"], e["subject"], e["details"]) for e in changed] == [
        (project.owner.id, agent.id, {"from": "agent", "to": "admin"}),
    ]
    removed = _events(make, project, "member.removed")
    assert [(e["actor"], e["subject"], e["details"]) for e in removed] == [
        (project.owner.id, agent.id, {"role": "admin"}),
    ]


def test_tag_deletions_and_removals_are_recorded(make: Factory) -> None:
    project = make.project()
    owner = project.owner.headers
    tag = make.client.post(f"/{project.id}/tags", json={"tag": "vip", "color": "#43B1F2"},
                           headers=owner).json()
    make.client.delete(f"/{project.id}/tags/{tag['_id']}", headers=owner)
    deleted = _events(make, project, "tag.deleted")
    assert [(e["actor"], e["subject"], e["details"]) for e in deleted] == [
        (project.owner.id, tag["_id"], {"tag": "vip", "color": "#43B1F2"}),
    ]

    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    make.client.put(f"/{project.id}/requests/{rid}/tag", json=["refund"], headers=owner)
    make.client.delete(f"/{project.id}/requests/{rid}/tag/refund", headers=owner)
    make.client.delete(f"/{project.id}/requests/{rid}/tag/refund", headers=owner)  # gone: none
    make.client.put(f"/{project.id}/leads/{visitor.id}/tag", json=["returning"], headers=owner)
    make.client.delete(f"/{project.id}/leads/{visitor.id}/tag/returning", headers=owner)
    removed = _events(make, project, "tag.removed")
    assert [(e["subject"], e["details"]["tag"]) for e in removed] == [
        (visitor.id, "returning"), (rid, "refund"),
    ]
