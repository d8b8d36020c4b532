"""Every contact field says where its value came from and when: a signed token, the visitor's
own typing, an agent's edit, or a system default."""

from __future__ import annotations

from typing import Any

from frontdesk.clock import FakeClock, iso
from tests.conftest import Factory, Project
from tests.identity_helpers import claims_for, sign
from tests.test_keys import signin


def lead(make: Factory, project: Project, lead_id: str) -> dict[str, Any]:
    body: dict[str, Any] = make.client.get(f"/{project.id}/leads/{lead_id}",
                                           headers=project.owner.headers).json()
    return body


def test_each_field_records_its_source_and_time(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock))
    project = make.project()
    anonymous = make.visitor(project)
    anonymous.send(anonymous.new_request_id(), "hi")
    assert lead(make, project, anonymous.id)["provenance"]["fullname"] == {
        "source": "system", "at": iso(int(clock.now() * 1000))}
    clock.advance(60)
    anonymous.send(anonymous.new_request_id(), "me again",
                   attributes={"userFullname": "Ann", "userEmail": "ann@x.test"})
    clock.advance(60)
    r = make.client.put(f"/{project.id}/leads/{anonymous.id}", json={"phone": "+39 06 1"},
                        headers=project.owner.headers)
    assert r.status_code == 200
    provenance = lead(make, project, anonymous.id)["provenance"]
    typed_at, edited_at = iso(int((clock.now() - 60) * 1000)), iso(int(clock.now() * 1000))
    assert provenance == {
        "fullname": {"source": "visitor", "at": typed_at},
        "email": {"source": "visitor", "at": typed_at},
        "phone": {"source": "agent", "at": edited_at},
    }


def test_signed_fields_are_marked_token_and_stay_verified(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock))
    project = make.project()
    claims = claims_for(project.id, clock.now(), _id="ivy", firstname="Ivy", lastname="Lee",
                        email="ivy@x.test", phone="+44 20 1")
    session = signin(make.client, sign(claims, project.secret, "HS256", project.kid)).json()
    r = make.client.post(
        f"/{project.id}/requests/support-group-{project.id}-{'a' * 32}/messages",
        json={"text": "hi", "attributes": {"userFullname": "Not Ivy", "userEmail": "x@evil.test"}},
        headers={"Authorization": session["token"]},
    )
    assert r.status_code == 200, r.text
    contact = lead(make, project, "ivy")
    assert (contact["fullname"], contact["email"], contact["phone"]) == (
        "Ivy Lee", "ivy@x.test", "+44 20 1")
    assert {f: p["source"] for f, p in contact["provenance"].items()} == {
        "fullname": "token", "email": "token", "phone": "token"}
    refused = make.client.put(f"/{project.id}/leads/ivy", json={"phone": "+1 555"},
                              headers=project.owner.headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "verified_field")
    assert lead(make, project, "ivy")["phone"] == "+44 20 1"
