"""After hours: the widget learns whether the project (or a department) is open, and a
conversation opened outside opening hours starts with the editable off-hours message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from frontdesk.actions.projects import DEFAULT_OFF_HOURS_MESSAGE
from frontdesk.clock import FakeClock
from tests.conftest import Factory, Project

# Sunday 3 January 2027, noon UTC: outside the Monday-only hours below.
SUNDAY_NOON = datetime(2027, 1, 3, 12, 0, tzinfo=UTC).timestamp()
MONDAYS = {"tzname": "Europe/Rome", "1": [{"start": "09:00", "end": "17:00"}]}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SUNDAY_NOON)


@pytest.fixture
def make(app_factory: Any, clock: FakeClock) -> Factory:
    return Factory(app_factory(clock=clock))


def with_hours(make: Factory, project: Project, **settings: Any) -> None:
    r = make.client.put(
        f"/projects/{project.id}",
        json={"activeOperatingHours": True, "operatingHours": MONDAYS, "settings": settings},
        headers=project.owner.headers,
    )
    assert r.status_code == 200, r.text


def test_closed_the_widget_is_told_and_the_conversation_opens_with_the_message(
    make: Factory, clock: FakeClock
) -> None:
    project = make.project()
    with_hours(make, project, off_hours_message="Back on Monday at 9.")
    closed = make.client.get(f"/projects/{project.id}/availability").json()
    assert closed["isopen"] is False and closed["expectedReplyMinutes"] is None
    assert closed["offHoursMessage"] == "Back on Monday at 9."
    assert closed["nextOpenAt"] == "2027-01-04T08:00:00.000Z"  # 09:00 in Rome
    assert closed["minTier"] == "anonymous" and closed["department"]["minTier"] == "anonymous"
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "anyone there?").status_code == 200
    messages = make.client.get(f"/{project.id}/requests/{rid}/messages",
                               headers=visitor.headers).json()
    assert [m["senderKind"] for m in messages] == ["visitor", "system"]
    assert messages[1]["text"] == "Back on Monday at 9."
    assert messages[1]["attributes"] == {"subtype": "off_hours"}
    # Open on Monday: no such line, and the expected reply time once an agent is available.
    clock.advance(22 * 3600)
    make.client.put(f"/{project.id}/project_users/", json={"user_available": True},
                    headers=project.owner.headers)
    opened = make.client.get(f"/projects/{project.id}/availability").json()
    assert opened["isopen"] is True and opened["offHoursMessage"] is None
    assert opened["availableAgents"] == 1 and opened["expectedReplyMinutes"] == 5
    other = visitor.new_request_id()
    assert visitor.send(other, "hello").status_code == 200
    messages = make.client.get(f"/{project.id}/requests/{other}/messages",
                               headers=visitor.headers).json()
    assert [m["senderKind"] for m in messages] == ["visitor"]


def test_a_department_has_its_own_hours_and_message(make: Factory) -> None:
    project = make.project()
    r = make.client.post(
        f"/{project.id}/departments",
        json={"name": "Night desk", "operatingHours": {"tzname": "UTC", "0": [
            {"start": "00:00", "end": "23:59"}]}},
        headers=project.owner.headers,
    )
    night = r.json()
    r = make.client.post(
        f"/{project.id}/departments",
        json={"name": "Weekdays", "operatingHours": MONDAYS},
        headers=project.owner.headers,
    )
    weekdays = r.json()
    base = f"/projects/{project.id}/availability"
    assert make.client.get(base).json()["isopen"] is True  # the project has no hours
    assert make.client.get(base, params={"department": night["_id"]}).json()["isopen"] is True
    closed = make.client.get(base, params={"department": weekdays["_id"]}).json()
    assert closed["isopen"] is False and closed["offHoursMessage"] == DEFAULT_OFF_HOURS_MESSAGE
    assert closed["department"]["name"] == "Weekdays"
    r = make.client.get(base, params={"department": "a" * 24})
    assert r.status_code == 404 and r.json()["code"] == "department_not_found"
    assert make.client.get(f"/projects/{'b' * 24}/availability").status_code == 404
