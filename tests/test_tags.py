"""Tags: the project's library, tags on conversations and contacts, and the tag filter."""

from __future__ import annotations

from typing import Any

from tests.conftest import Factory, Project, Visitor


def _conversation(make: Factory, project: Project, text: str = "help") -> tuple[Visitor, str]:
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, text).status_code == 200
    return visitor, rid


def _tag(make: Factory, project: Project, rid: str, *tags: Any) -> dict[str, Any]:
    r = make.client.put(f"/{project.id}/requests/{rid}/tag", json=list(tags),
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _filtered(make: Factory, project: Project, query: str) -> dict[str, Any]:
    r = make.client.get(f"/{project.id}/requests?{query}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_library_creates_lists_renames_and_deletes(make: Factory) -> None:
    project = make.project()
    owner = project.owner.headers
    base = f"/{project.id}/tags"
    # The SDK's addTag posts to /tags/ with a colour.
    created = make.client.post(base + "/", json={"tag": "vip", "color": "#43B1F2"}, headers=owner)
    assert created.status_code == 200, created.text
    vip = created.json()
    assert (vip["tag"], vip["color"], vip["createdBy"]) == ("vip", "#43B1F2", project.owner.id)
    again = make.client.post(base, json={"tag": "vip", "color": "#000"}, headers=owner).json()
    assert again == vip  # an existing name answers the existing tag, unchanged
    make.client.post(base, json={"tag": "billing"}, headers=owner)
    assert [t["tag"] for t in make.client.get(base, headers=owner).json()] == ["billing", "vip"]

    renamed = make.client.put(f"{base}/{vip['_id']}", json={"tag": "VIP", "color": "#e5484d"},
                              headers=owner)
    assert (renamed.json()["tag"], renamed.json()["color"]) == ("VIP", "#e5484d")
    clash = make.client.put(f"{base}/{vip['_id']}", json={"tag": "billing"}, headers=owner)
    assert (clash.status_code, clash.json()["code"]) == (409, "tag_exists")

    deleted = make.client.delete(f"{base}/{vip['_id']}", headers=owner)
    assert deleted.status_code == 200 and deleted.json()["tag"] == "VIP"
    gone = make.client.get(f"{base}/{vip['_id']}", headers=owner)
    assert (gone.status_code, gone.json()["code"]) == (404, "tag_not_found")
    assert [t["tag"] for t in make.client.get(base, headers=owner).json()] == ["billing"]


def test_the_library_refuses_bad_input_and_the_wrong_callers(make: Factory) -> None:
    project = make.project()
    base = f"/{project.id}/tags"
    owner = project.owner.headers
    for body in ({"tag": ""}, {"tag": "   "}, {"tag": "x" * 101},
                 {"tag": "x", "color": "red;background:url(x)"}, {"color": "#fff"},
                 {"tag": "a/b"}):
        r = make.client.post(base, json=body, headers=owner)
        assert r.status_code == 422, body
    assert make.client.get(base, headers=owner).json() == []  # nothing half-written

    tag = make.client.post(base, json={"tag": "vip"}, headers=owner).json()
    agent = make.member(project, "agent")
    assert make.client.post(base, json={"tag": "new"}, headers=agent.headers).status_code == 200
    refused = make.client.delete(f"{base}/{tag['_id']}", headers=agent.headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_role")
    visitor = make.visitor(project)
    assert make.client.get(base, headers=visitor.headers).status_code == 403
    stranger = make.project()
    elsewhere = make.client.get(f"{base}/{tag['_id']}", headers=stranger.owner.headers)
    assert elsewhere.status_code == 403
    theirs = make.client.get(f"/{stranger.id}/tags/{tag['_id']}", headers=stranger.owner.headers)
    assert theirs.status_code == 404  # another project's tag id is unknown here


def test_a_conversation_tag_is_removed_by_its_id_or_bare_name(make: Factory) -> None:
    project = make.project()
    _, rid = _conversation(make, project)
    tagged = _tag(make, project, rid, {"tag": "vip", "color": "#43B1F2"}, "refund")
    vip = tagged["tags"][0]
    base = f"/{project.id}/requests/{rid}/tag"
    r = make.client.delete(f"{base}/{vip['_id']}", headers=project.owner.headers)
    assert r.status_code == 200 and r.json()["tags"] == ["refund"]
    r = make.client.delete(f"{base}/refund", headers=project.owner.headers)
    assert r.json()["tags"] == []
    # A tag the conversation does not carry changes nothing, as in Tiledesk.
    r = make.client.delete(f"{base}/nothing", headers=project.owner.headers)
    assert r.status_code == 200 and r.json()["tags"] == []


def test_visitors_never_see_or_touch_tags(make: Factory) -> None:
    project = make.project()
    visitor, rid = _conversation(make, project)
    tagged = _tag(make, project, rid, {"tag": "difficult customer"})
    mine = make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers).json()
    assert "tags" not in mine
    assert "tags" not in mine["lead"]
    listed = make.client.get(f"/{project.id}/requests/me", headers=visitor.headers).json()
    assert all("tags" not in r for r in listed["requests"])
    assert "difficult" not in visitor.send(rid, "still there?").text
    tag_id = tagged["tags"][0]["_id"]
    refused = make.client.delete(f"/{project.id}/requests/{rid}/tag/{tag_id}",
                                 headers=visitor.headers)
    assert refused.status_code == 403
    refused = make.client.put(f"/{project.id}/leads/{visitor.id}/tag", json=["x"],
                              headers=visitor.headers)
    assert refused.status_code == 403
    assert make.client.get(f"/{project.id}/requests?tags=difficult%20customer",
                           headers=visitor.headers).status_code == 403


def test_the_tag_filter_returns_exactly_the_tagged_conversations(make: Factory) -> None:
    project = make.project()
    _, object_tagged = _conversation(make, project, "one")
    _, name_tagged = _conversation(make, project, "two")
    _, other_tag = _conversation(make, project, "three")
    _conversation(make, project, "four")  # untagged
    _, prefix = _conversation(make, project, "five")
    _tag(make, project, object_tagged, {"tag": "vip", "color": "#43B1F2"}, "refund")
    _tag(make, project, name_tagged, "vip")
    _tag(make, project, other_tag, "refund")
    _tag(make, project, prefix, "vip2", {"tag": "v%p"})
    # Another project's conversation with the same tag stays out.
    stranger = make.project()
    _, theirs = _conversation(make, stranger)
    _tag(make, stranger, theirs, "vip")

    page = _filtered(make, project, "tags=vip")
    assert sorted(r["request_id"] for r in page["requests"]) == sorted(
        [object_tagged, name_tagged]
    )
    assert page["count"] == 2
    assert [r["request_id"] for r in _filtered(make, project, "tags=refund")["requests"]] == [
        other_tag, object_tagged,
    ]  # newest first
    assert _filtered(make, project, "tags=v%25p")["count"] == 1  # no LIKE wildcards
    assert _filtered(make, project, "tags=v_p")["count"] == 0
    assert _filtered(make, project, "tags=nothing") == {
        "perPage": 40, "count": 0, "countCapped": False, "next": None, "requests": []
    }
    # Combined with the other filters.
    make.client.put(f"/{project.id}/requests/{name_tagged}/close", headers=project.owner.headers)
    open_vip = _filtered(make, project, "tags=vip&status=open")
    assert [r["request_id"] for r in open_vip["requests"]] == [object_tagged]
    assert make.client.get(f"/{project.id}/requests?tags=",
                           headers=project.owner.headers).status_code == 422


def test_contact_tags_are_added_once_and_removed(make: Factory) -> None:
    project = make.project()
    visitor, _ = _conversation(make, project)
    path = f"/{project.id}/leads/{visitor.id}/tag"
    owner = project.owner.headers
    r = make.client.put(path, json=["returning", "vip"], headers=owner)
    assert r.status_code == 200 and r.json()["tags"] == ["returning", "vip"]
    r = make.client.put(path, json=["vip", "big spender"], headers=owner)
    assert r.json()["tags"] == ["returning", "vip", "big spender"]
    r = make.client.delete(f"{path}/big%20spender", headers=owner)
    assert r.json()["tags"] == ["returning", "vip"]
    assert make.client.put(path, json=[], headers=owner).status_code == 422
    r = make.client.put(path, json=[f"t{i}" for i in range(49)], headers=owner)
    assert (r.status_code, r.json()["code"]) == (422, "too_many_tags")
    lead = make.client.get(f"/{project.id}/leads/{visitor.id}", headers=owner).json()
    assert lead["tags"] == ["returning", "vip"]  # nothing half-written
    # The conversation's joined contact carries them for the side panel.
    requests = _filtered(make, project, f"lead={lead['_id']}")["requests"]
    assert requests[0]["lead"]["tags"] == ["returning", "vip"]
