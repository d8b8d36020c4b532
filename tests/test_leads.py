"""Contacts: one per visitor, verified vs self-reported fields, search, edit, erasure."""

from __future__ import annotations

from typing import Any

from tests.conftest import Factory


def _lead_of(make: Factory, project_id: str, headers: dict[str, str], visitor_id: str) -> dict:  # type: ignore[type-arg]
    r = make.client.get(f"/{project_id}/leads/{visitor_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_lead_lookup_by_id_and_by_visitor_id(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    visitor.send(visitor.new_request_id(), "hi")
    lead = _lead_of(make, project.id, project.owner.headers, visitor.id)
    assert lead["lead_id"] == visitor.id
    assert _lead_of(make, project.id, project.owner.headers, lead["_id"])["_id"] == lead["_id"]
    assert (
        make.client.get(
            f"/{project.id}/leads/{'1' * 24}", headers=project.owner.headers
        ).status_code
        == 404
    )
    assert (
        make.client.get(f"/{project.id}/leads/{visitor.id}", headers=visitor.headers).status_code
        == 403
    )


def test_filters_and_search(make: Factory) -> None:
    project = make.project()
    anon = make.visitor(project)
    known = make.visitor(project, authenticated=True, email="carol@shop.example", firstname="Carol")
    anon.send(anon.new_request_id(), "hi", attributes={"userFullname": "Dave 100%_"})
    known.send(known.new_request_id(), "hi")
    url = f"/{project.id}/leads"

    def ids(**params: object) -> list[str]:
        return [
            x["lead_id"]
            for x in make.client.get(url, params=params, headers=project.owner.headers).json()[
                "leads"
            ]
        ]

    assert set(ids()) == {anon.id, known.id}
    assert ids(authenticated="true") == [known.id]
    assert ids(authenticated="false") == [anon.id]
    assert ids(text="carol") == [known.id]
    assert ids(text="100%_") == [anon.id]  # LIKE wildcards are matched literally
    assert ids(text="D%e") == []  # as a wildcard it would match "Dave"


def test_agents_edit_self_reported_fields_but_not_verified_ones(make: Factory) -> None:
    project = make.project()
    anon = make.visitor(project)
    known = make.visitor(project, authenticated=True, email="eve@bank.example", firstname="Eve")
    anon.send(anon.new_request_id(), "hi")
    known.send(known.new_request_id(), "hi")
    owner = project.owner.headers
    r = make.client.put(
        f"/{project.id}/leads/{anon.id}",
        json={
            "fullname": "Frank",
            "phone": "+39 06 123",
            "tags": ["vip"],
            "attributes": {"note": "called twice", "senderAuthInfo": {"verified": True}},
        },
        headers=owner,
    )
    assert r.status_code == 200, r.text
    lead = r.json()
    assert lead["fullname"] == "Frank" and lead["provenance"]["fullname"]["source"] == "agent"
    assert lead["tags"] == ["vip"] and lead["attributes"]["note"] == "called twice"
    assert lead["attributes"]["senderAuthInfo"]["verified"] is False
    r = make.client.put(
        f"/{project.id}/leads/{known.id}", json={"email": "other@x.example"}, headers=owner
    )
    assert r.status_code == 422 and r.json()["code"] == "verified_field"
    assert _lead_of(make, project.id, owner, known.id)["email"] == "eve@bank.example"
    r = make.client.put(f"/{project.id}/leads/{known.id}", json={"phone": "+1 555"}, headers=owner)
    assert r.status_code == 200 and r.json()["isAuthenticated"] is True


def test_new_verified_token_updates_the_contact(make: Factory) -> None:
    project = make.project()
    first = make.visitor(project, authenticated=True, _id="c-9", email="old@x.example")
    first.send(first.new_request_id(), "hi")
    make.visitor(project, authenticated=True, _id="c-9", email="new@x.example", firstname="Neo")
    lead = _lead_of(make, project.id, project.owner.headers, "c-9")
    assert lead["email"] == "new@x.example" and lead["fullname"] == "Neo"
    assert lead["provenance"]["email"]["source"] == "token"


def test_erasure_removes_contact_conversations_and_sessions(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "please forget me")
    lead = _lead_of(make, project.id, project.owner.headers, visitor.id)
    r = make.client.delete(f"/{project.id}/leads/{lead['_id']}", headers=agent.headers)
    assert r.status_code == 403
    r = make.client.delete(f"/{project.id}/leads/{lead['_id']}", headers=project.owner.headers)
    assert r.status_code == 200 and r.json()["erased"]["requests"] == 1
    assert (
        make.client.get(
            f"/{project.id}/leads/{lead['_id']}", headers=project.owner.headers
        ).status_code
        == 404
    )
    assert (
        make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers).status_code
        == 404
    )
    assert (
        make.client.get(f"/{project.id}/requests", headers=project.owner.headers).json()["count"]
        == 0
    )
    r = make.client.get(f"/{project.id}/requests/me", headers=visitor.headers)
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"


def test_the_contacts_count_is_exact_below_the_cap_and_capped_above(app_factory: Any) -> None:
    make = Factory(app_factory(list_count_cap=3))
    project = make.project()
    for _ in range(5):
        visitor = make.visitor(project)
        visitor.send(visitor.new_request_id(), "hi")
    url = f"/{project.id}/leads"

    def listed(**params: Any) -> dict[str, Any]:
        r = make.client.get(url, params=params, headers=project.owner.headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    first, rest = listed(limit=2), listed(limit=2, page=2)
    assert (first["count"], first["countCapped"], len(first["leads"])) == (3, True, 2)
    # Capped or not, every contact is still reachable.
    assert (rest["count"], rest["countCapped"], len(rest["leads"])) == (3, True, 1)
    assert len({x["_id"] for p in (first, listed(limit=2, page=1), rest) for x in p["leads"]}) == 5
    authenticated = listed(authenticated="true")
    assert (authenticated["count"], authenticated["countCapped"]) == (0, False)
