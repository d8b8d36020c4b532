"""Notification choices are kept per agent and project on the server."""

from __future__ import annotations

from tests.conftest import Factory


def test_choices_default_on_and_are_kept_per_agent(make: Factory) -> None:
    project = make.project()
    owner, agent = project.owner, make.member(project)
    client = make.client
    url = f"/{project.id}/project_users/me/notifications"
    assert client.get(url, headers=owner.headers).json() == {
        "desktop": True, "sound": True, "title": True}
    r = client.put(url, json={"sound": False}, headers=owner.headers)
    assert r.status_code == 200 and r.json() == {"desktop": True, "sound": False, "title": True}
    r = client.put(url, json={"title": False}, headers=owner.headers)
    assert r.json() == {"desktop": True, "sound": False, "title": False}
    assert client.get(url, headers=owner.headers).json()["sound"] is False
    assert client.get(url, headers=agent.headers).json()["sound"] is True  # its own
    # Another project of the same agent keeps its own choices.
    second = make.project(owner)
    other_url = f"/{second.id}/project_users/me/notifications"
    assert client.get(other_url, headers=owner.headers).json()["sound"] is True


def test_choices_refuse_bad_input_and_outsiders(make: Factory) -> None:
    project = make.project()
    client = make.client
    url = f"/{project.id}/project_users/me/notifications"
    r = client.put(url, json={"sound": "loud"}, headers=project.owner.headers)
    assert r.status_code == 422
    assert client.get(url, headers=project.owner.headers).json()["sound"] is True
    visitor = make.visitor(project)
    assert client.get(url, headers=visitor.headers).status_code == 403
    stranger = make.agent()
    assert client.put(url, json={"sound": False}, headers=stranger.headers).status_code == 403
    assert client.get(url).status_code == 401
