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


def test_a_department_created_without_routing_reads_back_null_and_assigns(
    make: Factory,
) -> None:
    """Tiledesk's SDK creates departments with ``routing: null`` and checks it reads null."""
    project = make.project()
    base = f"/{project.id}/departments"
    owner = project.owner.headers
    r = make.client.post(base, json={"name": "Sales", "routing": None, "id_group": None,
                                     "id_bot": None}, headers=owner)
    assert r.status_code == 200, r.text
    sales = r.json()
    assert (sales["routing"], sales["default"]) == (None, False)
    assert make.client.get(f"{base}/{sales['_id']}", headers=owner).json()["routing"] is None
    # It routes as "assigned": a new conversation goes to the available owner.
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    sent = visitor.send(rid, "hello", departmentid=sales["_id"]).json()
    assert sent["request"]["department"] == sales["_id"]
    assert sent["request"]["participants"] == [project.owner.id]
    # A null in an update keeps the routing, as Tiledesk does; a name still changes.
    r = make.client.put(f"{base}/{sales['_id']}", json={"name": "Sales EU", "routing": None},
                        headers=owner)
    assert (r.json()["name"], r.json()["routing"]) == ("Sales EU", None)
    assert make.client.delete(f"{base}/{sales['_id']}", headers=owner).status_code == 200
