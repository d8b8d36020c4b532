"""Erasure, export and retention: a contact and everything of it, on request or when idle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from frontdesk.actions.retention import do_apply_retention
from frontdesk.cli import main
from frontdesk.clock import FakeClock
from tests.conftest import Factory, Project, Visitor, sign_customer_token

DAY = 24 * 3600


def converse(make: Factory, project: Project, visitor: Visitor) -> str:
    rid = visitor.new_request_id()
    assert visitor.send(rid, "my order 1234").status_code == 200
    assert make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "on it"},
                            headers=project.owner.headers).status_code == 200
    return rid


def assert_gone(make: Factory, path: str, headers: dict[str, str], code: str) -> None:
    """``path`` answers 404 with ``code``: the object is gone, not the route."""
    r = make.client.get(path, headers=headers)
    assert (r.status_code, r.json()["code"]) == (404, code), r.text


def test_erasure_removes_the_contact_and_everything_of_it(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    earlier = converse(make, project, anonymous)
    person = make.client.post(
        "/auth/signinWithCustomToken",
        headers={"Authorization": "JWT " + sign_customer_token(
                     project.id, project.secret or "", kid=project.kid, _id="gina"),
                 "X-Frontdesk-Anonymous-Token": anonymous.token},
    )
    visitor = Visitor(make.client, person.json()["token"], person.json()["user"], project.id)
    later = converse(make, project, visitor)
    kept = converse(make, project, make.visitor(project))  # someone else's: must stay

    r = make.client.delete(f"/{project.id}/leads/gina", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["erased"]["requests"] == 2
    owner = project.owner.headers
    for rid in (earlier, later):
        assert_gone(make, f"/{project.id}/requests/{rid}", owner, "request_not_found")
    assert make.client.get(f"/{project.id}/requests/{kept}", headers=owner).status_code == 200
    for visitor_id in ("gina", anonymous.id):
        assert_gone(make, f"/{project.id}/leads/{visitor_id}", owner, "lead_not_found")
        assert_gone(make, f"/{project.id}/project_users/users/{visitor_id}", owner,
                    "project_user_not_found")
    gone = make.client.get(f"/{project.id}/requests/me", headers=visitor.headers)
    assert gone.json()["code"] == "session_revoked"
    erased = make.client.get(f"/{project.id}/audit?type=lead.erased", headers=owner)
    assert erased.json()["events"][0]["subject"] == "gina"


def test_erasure_is_for_admins(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    converse(make, project, visitor)
    agent = make.member(project, "agent")
    r = make.client.delete(f"/{project.id}/leads/{visitor.id}", headers=agent.headers)
    assert (r.status_code, r.json()["code"]) == (403, "insufficient_role")
    assert make.client.get(f"/{project.id}/leads/{visitor.id}",
                           headers=agent.headers).status_code == 200


def test_export_holds_the_contacts_data(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project, authenticated=True, _id="hana", email="h@x.test")
    rid = converse(make, project, visitor)
    r = make.client.get(f"/{project.id}/leads/hana/export", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lead"]["email"] == "h@x.test"
    assert body["lead"]["provenance"]["email"]["source"] == "token"
    assert [c["request_id"] for c in body["requests"]] == [rid]
    assert [m["text"] for m in body["requests"][0]["messages"]] == ["my order 1234", "on it"]
    assert body["sessions"][0]["authInfo"]["verified"] is True
    agent = make.member(project, "agent")
    denied = make.client.get(f"/{project.id}/leads/hana/export", headers=agent.headers)
    assert denied.status_code == 403


def _retaining_30_days(app_factory: Any) -> tuple[FakeClock, Factory, Project]:
    """A fake clock, and an app on it with a project that keeps anonymous contacts 30 days."""
    clock = FakeClock()
    make = Factory(app_factory(clock=clock, agent_token_ttl=90 * DAY))
    project = make.project()
    r = make.client.put(f"/projects/{project.id}", headers=project.owner.headers,
                        json={"settings": {"anonymous_retention_days": 30}})
    assert r.status_code == 200
    return clock, make, project


def test_retention_erases_idle_anonymous_contacts_only(app_factory: Any) -> None:
    clock, make, project = _retaining_30_days(app_factory)
    idle = make.visitor(project)
    idle_rid = converse(make, project, idle)
    known = make.visitor(project, authenticated=True,
                         iat=int(clock.now()), exp=int(clock.now()) + 600)
    converse(make, project, known)
    clock.advance(20 * DAY)
    active = make.visitor(project)
    converse(make, project, active)
    clock.advance(11 * DAY)  # idle: 31 days; active: 11 days

    counts = make.client.portal.call(do_apply_retention, make.client.app.state.services)
    assert counts["leads"] == 1 and counts["requests"] == 1
    owner = project.owner.headers
    assert_gone(make, f"/{project.id}/requests/{idle_rid}", owner, "request_not_found")
    assert make.client.get(f"/{project.id}/leads/{active.id}", headers=owner).status_code == 200
    assert make.client.get(f"/{project.id}/leads/{known.id}", headers=owner).status_code == 200
    events = make.client.get(f"/{project.id}/audit?type=retention.erased",
                             headers=owner).json()["events"]
    assert [(e["actor"], e["subject"]) for e in events] == [("system", idle.id)]


def test_retention_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", "")
    assert main(["retention"]) == 0
    assert "erased 0 anonymous contacts" in capsys.readouterr().out


# ---- erasing the anonymous contact a merge emptied -----------------------------------------


def merge_into_customer(make: Factory, project: Project, anonymous: Visitor,
                        customer_id: str, **claims: Any) -> tuple[dict[str, str], str]:
    """Sign ``customer_id`` in with ``anonymous``'s proof: its headers and the merge id."""
    token = sign_customer_token(project.id, project.secret or "", kid=project.kid,
                                _id=customer_id, **claims)
    r = make.client.post("/auth/signinWithCustomToken",
                         headers={"Authorization": "JWT " + token,
                                  "X-Frontdesk-Anonymous-Token": anonymous.token})
    assert r.status_code == 200, r.text
    assert r.json()["merge"]["merged"] is True
    return {"Authorization": r.json()["token"]}, r.json()["merge"]["_id"]


def assert_history_kept(make: Factory, project: Project, customer: dict[str, str],
                        customer_id: str, rid: str) -> None:
    """The merged conversation is the customer's: readable by it and the agents, exported."""
    owner = project.owner.headers
    for headers in (customer, owner):
        r = make.client.get(f"/{project.id}/requests/{rid}", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["lead"]["lead_id"] == customer_id
        history = make.client.get(f"/{project.id}/requests/{rid}/messages", headers=headers)
        assert [m["text"] for m in history.json()] == ["my order 1234", "on it"]
    mine = make.client.get(f"/{project.id}/requests/me", headers=customer).json()
    assert [x["request_id"] for x in mine["requests"]] == [rid]
    export = make.client.get(f"/{project.id}/leads/{customer_id}/export", headers=owner).json()
    assert [c["request_id"] for c in export["requests"]] == [rid]
    assert [m["text"] for m in export["requests"][0]["messages"]] == ["my order 1234", "on it"]
    assert [m["requests"] for m in export["merges"]] == [[rid]]
    assert export["merges"][0]["revertedAt"] is None


def test_erasing_the_emptied_anonymous_contact_keeps_the_merged_history(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    rid = converse(make, project, anonymous)
    ivy, merge_id = merge_into_customer(make, project, anonymous, "ivy")
    owner = project.owner.headers

    r = make.client.delete(f"/{project.id}/leads/{anonymous.id}", headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["erased"]["requests"] == 0

    # What was the anonymous visitor's own is gone…
    assert_gone(make, f"/{project.id}/leads/{anonymous.id}", owner, "lead_not_found")
    assert_gone(make, f"/{project.id}/project_users/users/{anonymous.id}", owner,
                "project_user_not_found")
    # …the history it brought belongs to the surviving contact and stays whole.
    assert_history_kept(make, project, ivy, "ivy", rid)
    assert make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "still here"},
                            headers=ivy).status_code == 200
    # The merge is still on record; there is nobody left to give the conversation back to.
    merges = make.client.get(f"/{project.id}/leads/ivy/merges", headers=owner).json()
    assert [m["_id"] for m in merges] == [merge_id]
    assert merges[0]["revertedAt"] is None and merges[0]["anonymousErasedAt"] is not None
    revert = make.client.post(f"/{project.id}/merges/{merge_id}/revert", headers=owner)
    assert (revert.status_code, revert.json()["code"]) == (409, "anonymous_contact_erased")
    assert make.client.get(f"/{project.id}/requests/{rid}", headers=ivy).status_code == 200

    # Erasing the customer afterwards erases the merged history with it.
    r = make.client.delete(f"/{project.id}/leads/ivy", headers=owner)
    assert r.status_code == 200 and r.json()["erased"]["requests"] == 1
    assert_gone(make, f"/{project.id}/requests/{rid}", owner, "request_not_found")


def test_retention_leaves_an_anonymous_contact_a_live_merge_joined(app_factory: Any) -> None:
    clock, make, project = _retaining_30_days(app_factory)
    anonymous = make.visitor(project)
    rid = converse(make, project, anonymous)
    jo, merge_id = merge_into_customer(make, project, anonymous, "jo",
                                       iat=int(clock.now()), exp=int(clock.now()) + 600)
    bystander = make.visitor(project)  # idle, never merged: retention erases it
    converse(make, project, bystander)
    clock.advance(31 * DAY)

    counts = make.client.portal.call(do_apply_retention, make.client.app.state.services)
    assert (counts["leads"], counts["requests"]) == (1, 1)
    owner = project.owner.headers
    assert_gone(make, f"/{project.id}/leads/{bystander.id}", owner, "lead_not_found")
    assert make.client.get(f"/{project.id}/leads/{anonymous.id}", headers=owner
                           ).status_code == 200
    assert_history_kept(make, project, jo, "jo", rid)
    # The merge can still be undone, and then the conversation is the anonymous contact's.
    revert = make.client.post(f"/{project.id}/merges/{merge_id}/revert", headers=owner)
    assert revert.status_code == 200, revert.text
    back = make.client.get(f"/{project.id}/requests/{rid}", headers=owner).json()
    assert back["lead"]["lead_id"] == anonymous.id
