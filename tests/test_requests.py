"""Conversations: creation with the first message, routing, the lead, senderAuthInfo,
assignment, closing, rating, attributes, history and who may see what."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Agent, Factory, Project


def _agent_post(make: Factory, agent: object, pid: str, rid: str, text: str) -> object:
    return make.client.post(
        f"/{pid}/requests/{rid}/messages",
        json={"text": text},
        headers=agent.headers,  # type: ignore[attr-defined]
    )


def test_first_message_creates_request_and_lead_with_snapshot(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    r = visitor.send(rid, "my order is late", attributes={"userEmail": "me@home.example"})
    assert r.status_code == 200, r.text
    message = r.json()
    assert message["sender"] == visitor.id and message["recipient"] == rid

    request = make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers).json()
    assert request["first_text"] == "my order is late"
    assert request["requester"]["uuid_user"] == visitor.id
    assert request["snapshot"]["requester"]["role"] == "guest"
    assert request["snapshot"]["requester"]["isAuthenticated"] is False
    assert request["snapshot"]["lead"]["lead_id"] == visitor.id
    info = request["attributes"]["senderAuthInfo"]
    assert info["authVar"]["sign_in_provider"] == "anonymous" and info["verified"] is False
    lead = request["lead"]
    assert lead["email"] == "me@home.example"
    assert lead["provenance"]["email"]["source"] == "visitor"
    assert lead["attributes"]["senderAuthInfo"]["authVar"]["uid"] == visitor.id


def test_later_requests_of_a_visitor_reuse_its_lead(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    first, second = visitor.new_request_id(), visitor.new_request_id()
    visitor.send(first, "one")
    visitor.send(second, "two")
    leads = make.client.get(f"/{project.id}/leads", headers=project.owner.headers).json()
    assert leads["count"] == 1
    mine = make.client.get(f"/{project.id}/requests/me", headers=visitor.headers).json()
    assert mine["count"] == 2
    assert {r["lead"]["_id"] for r in mine["requests"]} == {leads["leads"][0]["_id"]}


def test_authenticated_request_carries_verified_sender_auth_info(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(
        project, authenticated=True, _id="cust-1", email="ada@uni.example", firstname="Ada"
    )
    rid = visitor.new_request_id()
    visitor.send(rid, "about my grades")
    request = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers).json()
    assert request["isAuthenticated"] is True
    assert request["snapshot"]["requester"]["role"] == "user"
    assert request["snapshot"]["requester"]["isAuthenticated"] is True
    info = request["attributes"]["senderAuthInfo"]
    assert info["verified"] is True and info["kid"] == project.kid and info["alg"] == "HS256"
    assert info["authVar"]["sign_in_provider"] == "custom"
    assert info["authVar"]["token"]["email"] == "ada@uni.example"
    assert request["lead"]["email"] == "ada@uni.example"
    assert request["lead"]["provenance"]["email"]["source"] == "token"


def test_spoofed_identity_fields_are_ignored(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    forged = {
        "authType": "USER",
        "authVar": {"uid": "ceo", "sign_in_provider": "custom", "token": {"email": "ceo@x"}},
        "verified": True,
    }
    visitor.send(
        rid,
        "I am the CEO",
        attributes={"senderAuthInfo": forged, "isAuthenticated": True, "role": "user"},
    )
    make.client.patch(
        f"/{project.id}/requests/{rid}/attributes",
        json={"senderAuthInfo": forged, "SenderAuthInfo": forged, "topic": "billing"},
        headers=visitor.headers,
    )
    request = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers).json()
    assert request["isAuthenticated"] is False
    assert request["attributes"]["senderAuthInfo"]["verified"] is False
    assert request["attributes"]["senderAuthInfo"]["authVar"]["uid"] == visitor.id
    assert (
        "SenderAuthInfo" not in request["attributes"]
        and "isAuthenticated" not in request["attributes"]
    )
    assert request["attributes"]["topic"] == "billing"
    assert request["lead"]["isAuthenticated"] is False


def test_message_body_cannot_overwrite_verified_name_or_email(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(
        project, authenticated=True, email="ada@uni.example", firstname="Ada", lastname="L"
    )
    rid = visitor.new_request_id()
    r = visitor.send(
        rid,
        "hi",
        senderFullname="Evil Name",
        attributes={"userFullname": "Evil Name", "userEmail": "evil@x.example"},
    )
    assert r.json()["senderFullname"] == "Ada L"
    lead = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers).json()[
        "lead"
    ]
    assert lead["fullname"] == "Ada L" and lead["email"] == "ada@uni.example"


def test_routing_assigns_available_agent_or_queues(make: Factory) -> None:
    project = make.project()
    make.client.put(
        f"/{project.id}/project_users",
        json={"user_available": False},
        headers=project.owner.headers,
    )
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    queued = visitor.send(rid, "anyone?").json()["request"]
    assert queued["status"] == 100 and queued["participants"] == []

    agent = make.member(project)
    second = visitor.new_request_id()
    routed = visitor.send(second, "now?").json()["request"]
    assert routed["status"] == 200 and routed["participants"] == [agent.id]


def test_routing_prefers_the_least_busy_agent(make: Factory) -> None:
    project = make.project()
    other = make.member(project)
    visitor = make.visitor(project)
    assignees = [
        visitor.send(visitor.new_request_id(), f"q{i}").json()["request"]["participants"][0]
        for i in range(4)
    ]
    assert sorted(assignees) == sorted([project.owner.id, other.id] * 2)


def test_routing_counts_follow_reassignment_and_closing(make: Factory) -> None:
    project = make.project()
    other = make.member(project)
    visitor = make.visitor(project)
    first = visitor.new_request_id()
    assert visitor.send(first, "a").json()["request"]["participants"] == [project.owner.id]
    make.client.put(
        f"/{project.id}/requests/{first}/assign",
        json={"assignee": other.id},
        headers=project.owner.headers,
    )
    second = visitor.send(visitor.new_request_id(), "b").json()["request"]
    assert second["participants"] == [project.owner.id]  # other now carries the first one
    make.client.put(f"/{project.id}/requests/{first}/close", headers=other.headers)
    third = visitor.send(visitor.new_request_id(), "c").json()["request"]
    assert third["participants"] == [other.id]  # closing freed other


def test_pooled_department_queues_everything(make: Factory) -> None:
    project = make.project()
    dept = make.client.post(
        f"/{project.id}/departments",
        json={"name": "Sales", "routing": "pooled"},
        headers=project.owner.headers,
    ).json()
    visitor = make.visitor(project)
    r = visitor.send(visitor.new_request_id(), "price?", departmentid=dept["_id"])
    assert r.json()["request"]["status"] == 100
    assert r.json()["request"]["department"] == dept["_id"]


def test_assign_take_close_reopen(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    base = f"/{project.id}/requests/{rid}"

    r = make.client.put(base + "/assign", json={}, headers=agent.headers)
    assert r.status_code == 200 and r.json()["participants"] == [agent.id]
    r = make.client.put(
        base + "/assign", json={"assignee": project.owner.id}, headers=agent.headers
    )
    assert r.json()["participants"] == [project.owner.id] and r.json()["status"] == 200
    r = make.client.put(base + "/assign", json={"assignee": "f" * 24}, headers=agent.headers)
    assert r.status_code == 422 and r.json()["code"] == "unknown_agent"

    r = make.client.put(base + "/close", headers=agent.headers)
    assert r.json()["status"] == 1000 and r.json()["closed_by"] == agent.id
    r = _agent_post(make, agent, project.id, rid, "hello?")
    assert r.status_code == 409 and r.json()["code"] == "request_closed"  # type: ignore[attr-defined]
    r = make.client.put(base + "/reopen", headers=agent.headers)
    assert r.json()["status"] == 200 and r.json()["closed_at"] is None


def test_participants_add_set_remove(make: Factory) -> None:
    project = make.project()
    agent = make.member(project)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    base = f"/{project.id}/requests/{rid}/participants"
    owner = project.owner.headers
    r = make.client.put(base, json=[agent.id, project.owner.id], headers=owner)
    assert r.json()["participants"] == [agent.id, project.owner.id]
    r = make.client.delete(f"{base}/{agent.id}", headers=owner)
    assert r.json()["participants"] == [project.owner.id]
    r = make.client.delete(f"{base}/{project.owner.id}", headers=owner)
    assert r.json()["participants"] == [] and r.json()["status"] == 100
    r = make.client.post(base, json={"member": agent.id}, headers=owner)
    assert r.json()["participants"] == [agent.id] and r.json()["status"] == 200
    r = make.client.delete(f"{base}/{'e' * 24}", headers=owner)
    assert r.status_code == 404


def test_visitor_closes_own_request_and_a_new_message_reopens_it(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    r = make.client.put(f"/{project.id}/requests/{rid}/closeg", headers=visitor.headers)
    assert r.json()["status"] == 1000
    r = visitor.send(rid, "actually, one more thing")
    assert r.status_code == 200 and r.json()["request"]["status"] in (100, 200)


def test_rating_only_by_the_requester(make: Factory) -> None:
    project = make.project()
    visitor, stranger = make.visitor(project), make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    url = f"/{project.id}/requests/{rid}/rating"
    r = make.client.patch(
        url, json={"rating": 5, "rating_message": "great"}, headers=visitor.headers
    )
    assert r.json()["rating"] == 5 and r.json()["rating_message"] == "great"
    assert make.client.patch(url, json={"rating": 1}, headers=stranger.headers).status_code == 403
    assert (
        make.client.patch(url, json={"rating": 1}, headers=project.owner.headers).status_code == 403
    )
    r = make.client.patch(url, json={"rating": 9}, headers=visitor.headers)
    assert r.status_code == 422


def test_tags_and_attributes_by_agents(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    r = make.client.patch(
        f"/{project.id}/requests/{rid}",
        json={"tags": ["vip", {"tag": "refund", "color": "#f00"}], "attributes": {"order": 7}},
        headers=project.owner.headers,
    )
    assert r.status_code == 200
    assert _without_ids(r.json()["tags"]) == ["vip", {"tag": "refund", "color": "#f00"}]
    assert len(r.json()["tags"][1]["_id"]) == 24  # Tiledesk removes a tag by its _id
    assert r.json()["attributes"]["order"] == 7
    assert r.json()["attributes"]["senderAuthInfo"]["authVar"]["uid"] == visitor.id
    r = make.client.patch(
        f"/{project.id}/requests/{rid}", json={"tags": ["x"]}, headers=visitor.headers
    )
    assert r.status_code == 403


def _without_ids(tags: list[Any]) -> list[Any]:
    return [{k: v for k, v in t.items() if k != "_id"} if isinstance(t, dict) else t
            for t in tags]


def test_tags_are_added_by_name_once(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    url = f"/{project.id}/requests/{rid}/tag"
    owner = project.owner.headers
    r = make.client.put(url, json=[{"tag": "vip", "color": "#f00"}], headers=owner)
    assert r.status_code == 200, r.text
    r = make.client.put(url, json=["refund", {"tag": "vip", "color": "#0f0"}], headers=owner)
    first = r.json()["tags"]
    assert _without_ids(first) == [{"tag": "vip", "color": "#f00"}, "refund"]  # vip kept as it was
    refused = make.client.put(url, json=["x"], headers=visitor.headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "agents_only")
    r = make.client.put(url, json=[f"t{i}" for i in range(49)], headers=owner)
    assert (r.status_code, r.json()["code"]) == (422, "too_many_tags")
    tags = make.client.get(f"/{project.id}/requests/{rid}", headers=owner).json()["tags"]
    assert tags == first  # nothing half-written


def test_visitor_cannot_read_or_write_anothers_request(make: Factory) -> None:
    project = make.project()
    alice, mallory = make.visitor(project), make.visitor(project)
    rid = alice.new_request_id()
    alice.send(rid, "my secret")
    base = f"/{project.id}/requests/{rid}"
    for method, path in (("GET", ""), ("GET", "/messages"), ("PUT", "/closeg")):
        r = make.client.request(method, base + path, headers=mallory.headers)
        assert r.status_code == 403, (method, path)
        assert r.json()["code"] == "not_your_request"
    r = mallory.send(rid, "let me in")
    assert r.status_code == 403 and r.json()["code"] == "not_your_request"
    history = make.client.get(base + "/messages", headers=alice.headers).json()
    assert [m["text"] for m in history] == ["my secret"]
    assert make.client.get(f"/{project.id}/requests", headers=mallory.headers).status_code == 403


def test_agent_of_another_project_sees_nothing(make: Factory) -> None:
    project, other = make.project(), make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hi")
    outsider = other.owner
    for path in (
        f"/{project.id}/requests",
        f"/{project.id}/requests/{rid}",
        f"/{project.id}/leads",
        f"/{project.id}/project_users",
    ):
        r = make.client.get(path, headers=outsider.headers)
        assert r.status_code == 403 and r.json()["code"] == "not_a_member", path


def test_request_id_must_belong_to_the_project(make: Factory) -> None:
    project, other = make.project(), make.project()
    visitor = make.visitor(project)
    for rid in (f"support-group-{other.id}-{uuid.uuid4().hex}", "support-group-x", "abc"):
        r = visitor.send(rid, "hi")
        assert r.status_code == 400 and r.json()["code"] == "invalid_request_id", rid


def test_agent_cannot_open_a_conversation(make: Factory) -> None:
    project = make.project()
    rid = f"support-group-{project.id}-{uuid.uuid4().hex}"
    r = _agent_post(make, project.owner, project.id, rid, "hello")
    assert r.status_code == 404 and r.json()["code"] == "request_not_found"  # type: ignore[attr-defined]


def test_message_history_is_oldest_first_with_cursors(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    ids = [visitor.send(rid, f"m{i}").json()["_id"] for i in range(7)]
    base = f"/{project.id}/requests/{rid}/messages"
    page = make.client.get(base, params={"limit": 3}, headers=visitor.headers).json()
    assert [m["text"] for m in page] == ["m0", "m1", "m2"]
    page = make.client.get(base, params={"limit": 3, "after": ids[2]}, headers=visitor.headers)
    assert [m["text"] for m in page.json()] == ["m3", "m4", "m5"]
    page = make.client.get(base, params={"limit": 2, "before": ids[6]}, headers=visitor.headers)
    assert [m["text"] for m in page.json()] == ["m4", "m5"]
    r = make.client.get(base, params={"after": "0" * 24}, headers=visitor.headers)
    assert r.status_code == 422 and r.json()["code"] == "unknown_cursor"


def test_list_filters(make: Factory) -> None:
    project = make.project()
    anon = make.visitor(project)
    known = make.visitor(project, authenticated=True, email="bob@shop.example", firstname="Bob")
    r1, r2 = anon.new_request_id(), known.new_request_id()
    anon.send(r1, "where is my parcel")
    known.send(r2, "refund please")
    make.client.put(f"/{project.id}/requests/{r1}/close", headers=project.owner.headers)

    def listed(**params: object) -> list[str]:
        r = make.client.get(f"/{project.id}/requests", params=params, headers=project.owner.headers)
        assert r.status_code == 200, r.text
        return [x["request_id"] for x in r.json()["requests"]]

    assert set(listed()) == {r1, r2}
    assert listed(status="open") == [r2]
    assert listed(status="1000") == [r1]
    assert listed(authenticated="true") == [r2]
    assert listed(authenticated="false") == [r1]
    assert listed(text="PARCEL") == [r1]
    assert listed(text="bob@shop") == [r2]
    assert set(listed(mine="true")) == {r1, r2}  # closing keeps the participant
    assert listed(mine="true", status="open") == [r2]
    other_agent = make.member(project)
    r = make.client.get(
        f"/{project.id}/requests", params={"mine": "true"}, headers=other_agent.headers
    )
    assert r.json()["count"] == 0
    r = make.client.get(
        f"/{project.id}/requests", params={"status": "banana"}, headers=project.owner.headers
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_status"
    page = make.client.get(
        f"/{project.id}/requests", params={"limit": 1, "page": 1}, headers=project.owner.headers
    ).json()
    assert page["count"] == 2 and page["perPage"] == 1 and len(page["requests"]) == 1


def test_route_again_and_change_department(make: Factory) -> None:
    project = make.project()
    dept = make.client.post(
        f"/{project.id}/departments", json={"name": "Billing"}, headers=project.owner.headers
    ).json()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    r = make.client.put(
        f"/{project.id}/requests/{rid}/departments",
        json={"departmentid": dept["_id"]},
        headers=project.owner.headers,
    )
    assert r.status_code == 200 and r.json()["department"] == dept["_id"]
    r = make.client.put(f"/{project.id}/requests/{rid}/agent", headers=project.owner.headers)
    assert r.json()["status"] == 200 and r.json()["participants"] == [project.owner.id]


def _billing(make: Factory, project: Project) -> tuple[str, Agent]:
    """A "Billing" department with one agent; answers (department id, that agent)."""
    member = make.member(project)
    r = make.client.post(
        f"/{project.id}/departments",
        json={"name": "Billing", "routing": "assigned", "agents": [member.id]},
        headers=project.owner.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()["_id"], member


def _set_available(make: Factory, project: Project, agent: Agent, available: bool) -> None:
    r = make.client.put(f"/{project.id}/project_users/", json={"user_available": available},
                        headers=agent.headers)
    assert r.status_code == 200, r.text


def _assign(make: Factory, project: Project, rid: str, body: dict[str, Any]) -> Any:
    return make.client.put(f"/{project.id}/requests/{rid}/assign", json=body,
                           headers=project.owner.headers)


def test_assign_with_a_department_routes_a_waiting_conversation_there(make: Factory) -> None:
    project = make.project()
    billing, billing_agent = _billing(make, project)
    _set_available(make, project, project.owner, False)
    _set_available(make, project, billing_agent, False)
    # Waiting in a department the billing agent is not in: its return does not route it.
    r = make.client.post(f"/{project.id}/departments",
                         json={"name": "Sales", "agents": [project.owner.id]},
                         headers=project.owner.headers)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    waiting = visitor.send(rid, "my invoice is wrong", departmentid=r.json()["_id"]).json()
    assert waiting["request"]["status"] == 100
    _set_available(make, project, billing_agent, True)

    # The SDK's assign(requestId, departmentId) sends exactly this body.
    r = _assign(make, project, rid, {"departmentid": billing, "nobot": False,
                                     "no_populate": False})

    assert r.status_code == 200, r.text
    routed = r.json()
    assert routed["department"] == billing
    assert routed["participants"] == [billing_agent.id]
    assert routed["status"] == 200


def test_assign_with_a_department_leaves_an_assigned_conversation_alone(make: Factory) -> None:
    project = make.project()
    billing, _ = _billing(make, project)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    before = visitor.send(rid, "hello").json()["request"]
    assert before["participants"] == [project.owner.id]

    r = _assign(make, project, rid, {"departmentid": billing})

    assert r.status_code == 200, r.text
    assert r.json()["participants"] == [project.owner.id]
    assert r.json()["department"] == before["department"]


def test_assign_without_a_department_still_lets_the_caller_take_it(make: Factory) -> None:
    project = make.project()
    colleague = make.member(project)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")

    r = make.client.put(f"/{project.id}/requests/{rid}/assign", json={},
                        headers=colleague.headers)

    assert r.status_code == 200, r.text
    assert r.json()["participants"] == [colleague.id]


def test_assign_to_another_projects_department_is_not_found(make: Factory) -> None:
    project, other = make.project(), make.project()
    foreign, _ = _billing(make, other)
    _set_available(make, project, project.owner, False)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")

    r = _assign(make, project, rid, {"departmentid": foreign})

    assert r.status_code == 404, r.text


def test_a_limit_above_a_page_lists_the_largest_page(make: Factory) -> None:
    # Tiledesk clients ask for e.g. limit=1000; a non-200 would be an error for them.
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")

    r = make.client.get(
        f"/{project.id}/requests", params={"limit": 1000}, headers=project.owner.headers
    )

    assert r.status_code == 200, r.text
    assert r.json()["perPage"] == 100
    assert [x["request_id"] for x in r.json()["requests"]] == [rid]


def test_full_text_searches_like_text(make: Factory) -> None:
    # Tiledesk's search parameter; ignoring it would list every conversation.
    project = make.project()
    visitor = make.visitor(project)
    parcel, refund = visitor.new_request_id(), visitor.new_request_id()
    visitor.send(parcel, "where is my parcel")
    visitor.send(refund, "refund please")

    r = make.client.get(
        f"/{project.id}/requests", params={"full_text": "parcel"}, headers=project.owner.headers
    )

    assert r.status_code == 200, r.text
    assert [x["request_id"] for x in r.json()["requests"]] == [parcel]


def test_repeated_attribute_patches_cannot_grow_without_bound(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hi")
    url = f"/{project.id}/requests/{rid}/attributes"
    answers = []
    for batch in range(6):
        chunk = {f"k{batch}-{i}": "v" * 300 for i in range(40)}  # ~13 KB each, under the limit
        answers.append(make.client.patch(url, json=chunk, headers=visitor.headers))
    assert answers[0].status_code == 200
    refused = [a for a in answers if a.status_code != 200]
    assert refused and refused[0].status_code == 422
    assert refused[0].json()["code"] == "attributes_too_large"
    stored = make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers).json()
    assert len(stored["attributes"]) <= 200


def test_every_change_answers_the_conversation_as_a_later_read_shows_it(make: Factory) -> None:
    """A change answers the conversation from what it wrote (the row is locked, so nothing
    else changed it); that answer is the one a fresh read gives, field for field."""
    project = make.project()
    agent = make.member(project)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    base = f"/{project.id}/requests/{rid}"
    owner = project.owner.headers

    def read(headers: dict[str, str]) -> Any:
        return make.client.get(base, headers=headers).json()

    changes = [
        ("put", "/assign", {}),
        ("put", "/participants", [agent.id, project.owner.id]),
        ("delete", f"/participants/{agent.id}", None),
        ("post", "/participants", {"member": agent.id}),
        ("put", "/agent", None),
        ("patch", "", {"tags": ["vip"], "attributes": {"order": 7}}),
        ("patch", "/attributes", {"plan": "gold"}),
        ("put", "/tag", ["refund"]),
        ("put", "/close", None),
        ("put", "/reopen", None),
    ]
    for method, path, body in changes:
        r = make.client.request(method, base + path, json=body, headers=owner)
        assert r.status_code == 200, (path, r.text)
        assert r.json() == read(owner), path

    r = make.client.patch(base + "/rating", json={"rating": 4}, headers=visitor.headers)
    assert r.status_code == 200 and r.json() == read(visitor.headers)
    make.client.put(base + "/close", headers=owner)
    r = visitor.send(rid, "one more thing")  # reopens, then writes
    assert r.status_code == 200 and r.json()["request"] == read(visitor.headers)
    assert r.json()["request"]["status"] == 200 and r.json()["request"]["last_text"] == (
        "one more thing"
    )


def test_a_message_with_neither_text_nor_file_is_refused(make: Factory) -> None:
    """As Tiledesk answers it: 422, and no conversation is opened."""
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    for body in ({}, {"text": ""}, {"text": "  \n"}, {"type": "image"},
                 {"type": "image", "metadata": {"width": 10}}):
        r = make.client.post(f"/{project.id}/requests/{rid}/messages", json=body,
                             headers=visitor.headers)
        assert (r.status_code, r.json()["code"]) == (422, "empty_message"), body
    gone = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)
    assert gone.status_code == 404
    # Tiledesk's frame: no text, its metadata.src is what it shows.
    frame = visitor.send(rid, "", type="frame", metadata={"src": "https://example.com/track"})
    assert frame.status_code == 200, frame.text
    empty_reply = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": ""},
                                   headers=project.owner.headers)
    assert (empty_reply.status_code, empty_reply.json()["code"]) == (422, "empty_message")
