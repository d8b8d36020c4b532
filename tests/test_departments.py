"""Departments: CRUD, validation, the default one."""

from __future__ import annotations

from tests.conftest import Factory


def test_department_lifecycle(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    base = f"/{project.id}/departments"
    owner = project.owner.headers
    r = make.client.post(base, json={"name": "Billing", "agents": [agent.id]}, headers=owner)
    assert r.status_code == 200
    dept = r.json()
    assert dept["name"] == "Billing" and dept["agents"] == [agent.id] and dept["default"] is False
    assert make.client.get(f"{base}/{dept['_id']}", headers=owner).json() == dept  # as stored
    r = make.client.put(
        f"{base}/{dept['_id']}", json={"name": "Payments", "routing": "pooled"}, headers=owner
    )
    assert r.json()["name"] == "Payments" and r.json()["routing"] == "pooled"
    assert (
        make.client.get(f"{base}/{dept['_id']}", headers=agent.headers).json()["name"] == "Payments"
    )
    assert make.client.get(f"{base}/{dept['_id']}", headers=owner).json() == r.json()  # as stored
    names = [d["name"] for d in make.client.get(f"{base}/allstatus", headers=agent.headers).json()]
    assert names == ["Default Department", "Payments"]
    assert make.client.delete(f"{base}/{dept['_id']}", headers=agent.headers).status_code == 403
    assert make.client.delete(f"{base}/{dept['_id']}", headers=owner).status_code == 200
    assert make.client.get(f"{base}/{dept['_id']}", headers=owner).status_code == 404


def test_default_department_stays_and_agents_must_be_members(make: Factory) -> None:
    project = make.project()
    base = f"/{project.id}/departments"
    owner = project.owner.headers
    default = make.client.get(base, headers=owner).json()[0]
    r = make.client.delete(f"{base}/{default['_id']}", headers=owner)
    assert r.status_code == 409 and r.json()["code"] == "default_department"
    r = make.client.post(base, json={"name": "X", "agents": ["a" * 24]}, headers=owner)
    assert r.status_code == 422 and r.json()["code"] == "unknown_agent"
    r = make.client.post(base, json={"name": "X", "routing": "random"}, headers=owner)
    assert r.status_code == 422
    assert make.client.get(f"{base}/not-an-id", headers=owner).status_code == 404
