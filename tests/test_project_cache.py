"""The per-process cache of projects, default departments and agents' memberships never delays
a change of access or routing: the next call after a committed change sees it, a rolled-back
change leaves the cache as it was, and a visitor's sign-in publishes nothing for it (SQLite
and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from frontdesk.actions.presence import do_mark_away, do_mark_back
from frontdesk.realtime.events import Event, ProjectChanged
from frontdesk.services import Services
from frontdesk.storage import project_users, projects
from tests.conftest import Agent, Factory, Project, sign_customer_token


def _services(make: Factory) -> Services:
    services: Services = make.client.app.state.services  # type: ignore[attr-defined]
    return services


def _member_id(make: Factory, project: Project, agent: Agent) -> str:
    r = make.client.get(f"/{project.id}/project_users/users/{agent.id}", headers=agent.headers)
    assert r.status_code == 200, r.text
    return str(r.json()[0]["_id"])


def _requests(make: Factory, project: Project, agent: Agent) -> Any:
    return make.client.get(f"/{project.id}/requests", headers=agent.headers)


def _cached(make: Factory, project: Project, agent: Agent) -> None:
    """``agent``'s call into ``project`` reads the project and its membership from the cache."""
    assert _requests(make, project, agent).status_code == 200
    cache = _services(make).project_cache
    assert cache.project(project.id) is not None
    assert cache.membership(project.id, agent.id) is not None


def _published(make: Factory, monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    services = _services(make)
    seen: list[Event] = []
    publish = services.broker.publish

    async def recording(event: Event) -> None:
        seen.append(event)
        await publish(event)

    monkeypatch.setattr(services.broker, "publish", recording)
    return seen


def test_a_removed_agent_is_refused_on_its_very_next_call(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    puid = _member_id(make, project, agent)
    _cached(make, project, agent)
    r = make.client.delete(f"/{project.id}/project_users/{puid}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    r = _requests(make, project, agent)
    assert (r.status_code, r.json()["code"]) == (403, "not_a_member")


def test_a_lowered_role_is_refused_on_its_very_next_call(make: Factory) -> None:
    project = make.project()
    admin = make.member(project, role="admin")
    puid = _member_id(make, project, admin)
    rename = {"name": "Renamed by the admin"}
    assert make.client.put(f"/projects/{project.id}", json=rename,
                           headers=admin.headers).status_code == 200
    _cached(make, project, admin)
    r = make.client.put(f"/{project.id}/project_users/{puid}", json={"role": "agent"},
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text
    r = make.client.put(f"/projects/{project.id}", json=rename, headers=admin.headers)
    assert (r.status_code, r.json()["code"]) == (403, "insufficient_role")
    assert _requests(make, project, admin).status_code == 200  # still an agent


def test_a_changed_visitor_policy_holds_on_the_very_next_call(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    shop = {"Origin": "https://shop.example.com"}
    rid = visitor.new_request_id()
    assert make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "hi"},
                            headers={**visitor.headers, **shop}).status_code == 200
    assert _services(make).project_cache.project(project.id) is not None

    def put(settings: dict[str, Any]) -> None:
        r = make.client.put(f"/projects/{project.id}", json={"settings": settings},
                            headers=project.owner.headers)
        assert r.status_code == 200, r.text

    put({"allowed_origins": ["https://other.example.com"]})
    r = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "again"},
                         headers={**visitor.headers, **shop})
    assert (r.status_code, r.json()["code"]) == (403, "origin_not_allowed")
    put({"allowed_origins": ["https://shop.example.com"]})
    assert make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "back"},
                            headers={**visitor.headers, **shop}).status_code == 200
    put({"allow_anonymous": False})
    r = make.client.get(f"/{project.id}/requests/me", headers={**visitor.headers, **shop})
    assert (r.status_code, r.json()["code"]) == (403, "anonymous_not_allowed")


def _own_availability(make: Factory, project: Project, agent: Agent, puid: str) -> None:
    r = make.client.put(f"/{project.id}/project_users", json={"user_available": False},
                        headers=agent.headers)
    assert r.status_code == 200, r.text


def _availability_by_admin(make: Factory, project: Project, agent: Agent, puid: str) -> None:
    r = make.client.put(f"/{project.id}/project_users/{puid}", json={"user_available": False},
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text


def _role(make: Factory, project: Project, agent: Agent, puid: str) -> None:
    r = make.client.put(f"/{project.id}/project_users/{puid}", json={"role": "admin"},
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text


def _notifications(make: Factory, project: Project, agent: Agent, puid: str) -> None:
    r = make.client.put(f"/{project.id}/project_users/me/notifications", json={"sound": False},
                        headers=agent.headers)
    assert r.status_code == 200, r.text


def _removal(make: Factory, project: Project, agent: Agent, puid: str) -> None:
    r = make.client.delete(f"/{project.id}/project_users/{puid}", headers=project.owner.headers)
    assert r.status_code == 200, r.text


Change = Callable[[Factory, Project, Agent, str], None]


@pytest.mark.parametrize("change", [
    _own_availability, _availability_by_admin, _role, _notifications, _removal,
])
def test_every_membership_change_of_the_team_api_evicts_the_membership(
    make: Factory, change: Change
) -> None:
    project = make.project()
    agent = make.member(project)
    puid = _member_id(make, project, agent)
    _cached(make, project, agent)
    change(make, project, agent, puid)
    cache = _services(make).project_cache
    assert cache.membership(project.id, agent.id) is None
    assert cache.project(project.id) is not None  # only what changed is forgotten


def test_presence_moving_an_agent_away_and_back_evicts_its_membership(make: Factory) -> None:
    """The server's own availability changes (its dashboards gone, then back) evict too."""
    project = make.project()
    agent = make.member(project)
    services = _services(make)
    for move in (do_mark_away, do_mark_back):
        _cached(make, project, agent)
        assert make.client.portal.call(move, services, agent.id) == [project.id]  # type: ignore[union-attr]
        assert services.project_cache.membership(project.id, agent.id) is None
        r = make.client.get(f"/{project.id}/project_users/users/{agent.id}",
                            headers=agent.headers)
        assert r.json()[0]["user_available"] is (move is do_mark_back)


def test_what_the_next_call_reads_is_the_changed_membership(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    url = f"/{project.id}/project_users/me/notifications"
    assert make.client.get(url, headers=agent.headers).json()["sound"] is True  # now cached
    assert make.client.put(url, json={"sound": False}, headers=agent.headers).status_code == 200
    assert make.client.get(url, headers=agent.headers).json()["sound"] is False


def test_a_project_update_evicts_the_project(make: Factory) -> None:
    project = make.project()
    _cached(make, project, project.owner)
    r = make.client.put(f"/projects/{project.id}", json={"name": "Renamed"},
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text
    cache = _services(make).project_cache
    assert cache.project(project.id) is None
    assert cache.membership(project.id, project.owner.id) is not None
    r = make.client.get(f"/projects/{project.id}", headers=project.owner.headers)
    assert r.json()["name"] == "Renamed"


def test_a_change_of_the_default_department_holds_for_the_very_next_conversation(
    make: Factory,
) -> None:
    project = make.project()
    visitor = make.visitor(project)
    first = visitor.send(visitor.new_request_id(), "hello")
    assert first.json()["request"]["participants"] == [project.owner.id]  # assigned
    cache = _services(make).project_cache
    default = cache.default_department(project.id)
    assert default is not None and default["routing"] == "assigned"
    r = make.client.put(f"/{project.id}/departments/{default['id']}",
                        json={"routing": "pooled"}, headers=project.owner.headers)
    assert r.status_code == 200, r.text
    assert cache.default_department(project.id) is None
    second = visitor.send(visitor.new_request_id(), "again")
    assert second.json()["request"]["participants"] == []  # waits in the pool
    cached = cache.default_department(project.id)
    assert cached is not None and cached["routing"] == "pooled"


def test_routing_follows_every_change_of_the_available_agents_at_once(make: Factory) -> None:
    """A first message routes among the available agents the cache holds: the owner away,
    a new agent, its availability turned off and its removal each hold for the very next
    conversation."""
    project = make.project()
    visitor = make.visitor(project)
    owner = project.owner

    def routed_to() -> list[str]:
        r = visitor.send(visitor.new_request_id(), "hello")
        assert r.status_code == 200, r.text
        participants: list[str] = r.json()["request"]["participants"]
        return participants

    def put_availability(who: Agent, available: bool) -> None:
        r = make.client.put(f"/{project.id}/project_users", json={"user_available": available},
                            headers=who.headers)
        assert r.status_code == 200, r.text

    assert routed_to() == [owner.id]
    cache = _services(make).project_cache
    assert cache.available_agents(project.id) is not None  # the next one reads it from here
    put_availability(owner, False)
    assert routed_to() == []  # nobody available: it waits
    agent = make.member(project)  # available from the start
    assert routed_to() == [agent.id]
    put_availability(agent, False)
    put_availability(owner, True)
    assert routed_to() == [owner.id]
    put_availability(agent, True)
    put_availability(owner, False)
    assert routed_to() == [agent.id]
    r = make.client.delete(f"/{project.id}/project_users/{_member_id(make, project, agent)}",
                           headers=owner.headers)
    assert r.status_code == 200, r.text
    assert routed_to() == []


def test_a_rolled_back_write_leaves_the_cache_as_it_was(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    puid = _member_id(make, project, agent)
    _cached(make, project, agent)
    services = _services(make)
    before = (services.project_cache.project(project.id),
              services.project_cache.membership(project.id, agent.id))

    async def write(*, fail: bool) -> None:
        async with services.db.transaction() as tx:
            await projects.update_project(tx, project.id, name="Renamed", settings={}, now=1)
            services.project_changed_on_commit(tx, project.id)
            await project_users.update_project_user(tx, puid, now=1, role="admin")
            services.project_changed_on_commit(tx, project.id, agent.id)
            if fail:
                raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        make.client.portal.call(lambda: write(fail=True))  # type: ignore[union-attr]
    assert (services.project_cache.project(project.id),
            services.project_cache.membership(project.id, agent.id)) == before
    assert before[0] is not None and before[0]["name"] == "Acme"
    assert _requests(make, project, agent).status_code == 200
    make.client.portal.call(lambda: write(fail=False))  # type: ignore[union-attr]
    assert services.project_cache.project(project.id) is None
    assert services.project_cache.membership(project.id, agent.id) is None
    r = make.client.get(f"/projects/{project.id}", headers=agent.headers)
    assert (r.json()["name"], r.json()["role"]) == ("Renamed", "admin")


def test_visitor_sign_ins_publish_nothing_for_the_cache(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visitor's membership is written at every sign-in and never cached."""
    project = make.project()
    assert project.secret is not None
    published = _published(make, monkeypatch)
    make.visitor(project)
    customer = sign_customer_token(project.id, project.secret, kid=project.kid, _id="alice")
    for _ in range(2):  # the first inserts the membership, the second updates it
        r = make.client.post("/auth/signinWithCustomToken",
                             headers={"Authorization": "JWT " + customer})
        assert r.status_code == 200, r.text
    assert published == []
    agent = make.member(project)  # an agent's new membership is announced
    assert ProjectChanged(project_id=project.id, user_id=agent.id) in published


def test_with_the_cache_off_every_call_reads_the_database(app_factory: Any) -> None:
    make = Factory(app_factory(project_cache_seconds=0))
    project = make.project()
    assert _requests(make, project, project.owner).status_code == 200
    assert len(_services(make).project_cache) == 0
