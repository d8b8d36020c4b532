"""Projects: creation, membership listing, settings, opening hours, public widget config."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.clock import FakeClock
from tests.conftest import Factory


def test_creator_becomes_owner_with_a_default_department(make: Factory) -> None:
    agent = make.agent()
    r = make.client.post("/projects", json={"name": "Uni Office"}, headers=agent.headers)
    assert r.status_code == 200
    project = r.json()
    assert project["name"] == "Uni Office" and len(project["_id"]) == 24
    memberships = make.client.get("/projects", headers=agent.headers).json()
    assert memberships[0]["role"] == "owner"
    assert memberships[0]["id_project"]["_id"] == project["_id"]
    depts = make.client.get(f"/{project['_id']}/departments", headers=agent.headers).json()
    assert [d["default"] for d in depts] == [True]


def test_project_name_is_validated(make: Factory) -> None:
    agent = make.agent()
    for body in ({}, {"name": ""}, {"name": "x" * 101}):
        r = make.client.post("/projects", json=body, headers=agent.headers)
        assert r.status_code == 422, body


def test_visitors_cannot_create_projects(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    r = make.client.post("/projects", json={"name": "x"}, headers=visitor.headers)
    assert r.status_code == 403 and r.json()["code"] == "agents_only"
    assert make.client.post("/projects", json={"name": "x"}).status_code == 401


def test_update_is_for_admins_and_merges_settings(make: Factory) -> None:
    project = make.project()
    agent = make.member(project, "agent")
    admin = make.member(project, "admin")
    url = f"/projects/{project.id}"
    r = make.client.put(url, json={"name": "Renamed"}, headers=agent.headers)
    assert r.status_code == 403
    r = make.client.put(url, json={"settings": {"widget": {"title": "Hi!"}}}, headers=admin.headers)
    assert r.status_code == 200
    r = make.client.put(url, json={"name": "Renamed"}, headers=admin.headers)
    body = r.json()
    assert body["name"] == "Renamed" and body["widget"] == {"title": "Hi!"}
    assert body["settings"]["allow_anonymous"] is True
    assert make.client.get(url, headers=agent.headers).json()["name"] == "Renamed"
    assert make.client.get(url, headers=admin.headers).json() == body  # answered as stored


def test_operating_hours_drive_isopen(make: Factory) -> None:
    project = make.project()
    url = f"/projects/{project.id}"
    assert make.client.get(url + "/isopen").json() == {"isopen": True}
    closed_all_week = {"tzname": "UTC", **{str(d): [] for d in range(7)}}
    r = make.client.put(
        url,
        json={"activeOperatingHours": True, "operatingHours": closed_all_week},
        headers=project.owner.headers,
    )
    assert r.status_code == 200
    assert make.client.get(url + "/isopen").json() == {"isopen": False}
    always = {
        "tzname": "Europe/Rome",
        **{str(d): [{"start": "00:00", "end": "23:59"}] for d in range(7)},
    }
    make.client.put(url, json={"operatingHours": always}, headers=project.owner.headers)
    assert make.client.get(url + "/isopen").json() == {"isopen": True} or _is_last_minute()
    for bad in ({"tzname": "Mars/Olympus"}, {"9": []}, {"1": [{"start": "25:00", "end": "26:00"}]}):
        r = make.client.put(url, json={"operatingHours": bad}, headers=project.owner.headers)
        assert r.status_code == 422, bad


def test_public_widget_config_and_available_agents(make: Factory) -> None:
    project = make.project()
    r = make.client.get(f"/{project.id}/widgets")
    assert r.status_code == 200
    body = r.json()
    assert body["project"]["_id"] == project.id and body["isopen"] is True
    assert [a["id"] for a in body["user_available"]] == [project.owner.id]
    assert project.secret is not None and project.secret not in r.text
    # The widget checks a file's size before uploading it: the server's limit, or the lower
    # one the project set.
    assert body["project"]["maxUploadBytes"] == 10 * 1024 * 1024
    r = make.client.put(f"/projects/{project.id}", json={"settings": {"max_upload_bytes": 5000}},
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text
    widget = make.client.get(f"/{project.id}/widgets").json()
    assert widget["project"]["maxUploadBytes"] == 5000
    available = make.client.get(f"/projects/{project.id}/users/availables").json()
    assert [a["id"] for a in available] == [project.owner.id]
    make.client.put(
        f"/{project.id}/project_users",
        json={"user_available": False},
        headers=project.owner.headers,
    )
    assert make.client.get(f"/projects/{project.id}/users/availables").json() == []
    assert make.client.get(f"/{'0' * 24}/widgets").status_code == 404


def _is_last_minute() -> bool:
    """23:59 in Rome: the only minute the "always" hours above leave closed."""
    return datetime.now(ZoneInfo("Europe/Rome")).strftime("%H:%M") == "23:59"


def test_isopen_follows_the_project_time_zone(app_factory: Any) -> None:
    # FakeClock's default start is Friday 2027-01-15, 08:00 UTC = 09:00 in Rome.
    make = Factory(app_factory(clock=FakeClock()))
    project = make.project(with_secret=False)
    url = f"/projects/{project.id}"

    def open_with(hours: dict[str, Any]) -> bool:
        r = make.client.put(url, json={"activeOperatingHours": True, "operatingHours": hours},
                            headers=project.owner.headers)
        assert r.status_code == 200, r.text
        return bool(make.client.get(url + "/isopen").json()["isopen"])

    assert open_with({"tzname": "Europe/Rome", "5": [{"start": "08:30", "end": "09:30"}]})
    assert not open_with({"tzname": "UTC", "5": [{"start": "08:30", "end": "09:30"}]})
    assert not open_with({"tzname": "Europe/Rome", "4": [{"start": "08:30", "end": "09:30"}]})
    assert not open_with({"tzname": "Europe/Rome", "5": [{"start": "09:30", "end": "18:00"}]})
