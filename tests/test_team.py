"""The team: who may invite, roles, availability, removal (invitations: test_invitations)."""

from __future__ import annotations

from tests.conftest import Factory


def test_only_admins_invite_and_only_owners_make_owners(make: Factory) -> None:
    project = make.project()
    agent = make.member(project, "agent")
    admin = make.member(project, "admin")
    url = f"/{project.id}/project_users/invite"
    r = make.client.post(url, json={"email": "x@y.example"}, headers=agent.headers)
    assert r.status_code == 403
    r = make.client.post(url, json={"email": "x@y.example", "role": "owner"}, headers=admin.headers)
    assert r.status_code == 403
    r = make.client.post(
        url, json={"email": "x@y.example", "role": "owner"}, headers=project.owner.headers
    )
    assert r.status_code == 200


def test_roles_and_availability(make: Factory) -> None:
    project = make.project()
    agent = make.member(project, "agent")
    team = make.client.get(f"/{project.id}/project_users", headers=agent.headers).json()
    by_email = {m["id_user"]["email"]: m for m in team}
    agent_pu, owner_pu = by_email[agent.email]["_id"], by_email[project.owner.email]["_id"]

    r = make.client.put(
        f"/{project.id}/project_users", json={"user_available": False}, headers=agent.headers
    )
    assert r.status_code == 200 and r.json()["user_available"] is False
    r = make.client.put(
        f"/{project.id}/project_users/{agent_pu}",
        json={"user_available": True},
        headers=agent.headers,
    )
    assert r.json()["user_available"] is True
    r = make.client.put(
        f"/{project.id}/project_users/{agent_pu}", json={"role": "admin"}, headers=agent.headers
    )
    assert r.status_code == 403  # no self-promotion
    r = make.client.put(
        f"/{project.id}/project_users/{owner_pu}",
        json={"user_available": False},
        headers=agent.headers,
    )
    assert r.status_code == 403
    r = make.client.put(
        f"/{project.id}/project_users/{agent_pu}",
        json={"role": "admin"},
        headers=project.owner.headers,
    )
    assert r.json()["role"] == "admin"
    r = make.client.put(
        f"/{project.id}/project_users/{owner_pu}",
        json={"role": "agent"},
        headers=project.owner.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "last_owner"
    r = make.client.put(
        f"/{project.id}/project_users/{agent_pu}",
        json={"role": "visitor"},
        headers=project.owner.headers,
    )
    assert r.status_code == 422


def test_project_user_lookup_by_user_id(make: Factory) -> None:
    project = make.project()
    visitor, other = make.visitor(project), make.visitor(project)
    url = f"/{project.id}/project_users/users"
    r = make.client.get(f"{url}/{visitor.id}", headers=visitor.headers)
    assert r.status_code == 200 and r.json()[0]["uuid_user"] == visitor.id
    assert make.client.get(f"{url}/{other.id}", headers=visitor.headers).status_code == 403
    r = make.client.get(f"{url}/{project.owner.id}", headers=project.owner.headers)
    assert r.json()[0]["role"] == "owner" and r.json()[0]["isAuthenticated"] is True
    assert make.client.get(f"{url}/nobody", headers=project.owner.headers).status_code == 404


def test_remove_member(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    team = make.client.get(f"/{project.id}/project_users", headers=project.owner.headers).json()
    agent_pu = next(m["_id"] for m in team if m["id_user"]["email"] == agent.email)
    r = make.client.delete(f"/{project.id}/project_users/{agent_pu}", headers=agent.headers)
    assert r.status_code == 403
    r = make.client.delete(f"/{project.id}/project_users/{agent_pu}", headers=project.owner.headers)
    assert r.status_code == 200
    assert make.client.get(f"/{project.id}/requests", headers=agent.headers).status_code == 403
