"""The conversation list's cursor pages (``after`` / ``next``) and its bounded ``count``, on
both databases: a deep history must neither be walked by OFFSET nor counted row by row."""

from __future__ import annotations

import base64
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import Factory, Project, Visitor


def _conversations(make: Factory, project: Project, count: int) -> tuple[Visitor, list[str]]:
    """``count`` conversations of one visitor, the newest activity last."""
    visitor = make.visitor(project)
    rids = []
    for i in range(count):
        rid = visitor.new_request_id()
        r = visitor.send(rid, f"question {i}")
        assert r.status_code == 200, r.text
        rids.append(rid)
    return visitor, rids


def _page(client: TestClient, project: Project, **params: Any) -> dict[str, Any]:
    r = client.get(f"/{project.id}/requests", params=params, headers=project.owner.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _walk(client: TestClient, project: Project, **params: Any) -> list[str]:
    """Every request id, page by page through ``next``."""
    seen: list[str] = []
    body = _page(client, project, **params)
    while True:
        seen.extend(x["request_id"] for x in body["requests"])
        if body["next"] is None:
            return seen
        body = _page(client, project, after=body["next"], **params)


def test_cursor_pages_walk_the_list_in_order_without_gap_or_duplicate(make: Factory) -> None:
    project = make.project()
    _, rids = _conversations(make, project, 7)

    first = _page(make.client, project, limit=3)
    walked = _walk(make.client, project, limit=3)

    assert first["count"] == 7 and first["countCapped"] is False and first["next"]
    assert walked == rids[::-1]  # newest activity first
    last = _page(make.client, project, limit=7)
    assert last["next"] is None  # a full last page does not promise another


def test_rows_changing_between_pages_neither_repeat_nor_hide_the_others(make: Factory) -> None:
    project = make.project()
    visitor, rids = _conversations(make, project, 8)
    newest_first = rids[::-1]

    first = _page(make.client, project, limit=3)
    assert [x["request_id"] for x in first["requests"]] == newest_first[:3]
    # Between pages: a row already shown and a row not shown yet both move to the top, a new
    # conversation arrives, and one further down closes.
    visitor.send(newest_first[1], "one more thing")
    visitor.send(newest_first[5], "still there?")
    new = visitor.new_request_id()
    visitor.send(new, "another question")
    closed = make.client.put(
        f"/{project.id}/requests/{newest_first[6]}/close", headers=project.owner.headers
    )
    assert closed.status_code == 200, closed.text

    rest: list[str] = []
    body = _page(make.client, project, limit=3, after=first["next"])
    while True:
        rest.extend(x["request_id"] for x in body["requests"])
        if body["next"] is None:
            break
        body = _page(make.client, project, limit=3, after=body["next"])

    shown = [x["request_id"] for x in first["requests"]] + rest
    assert len(shown) == len(set(shown))  # no duplicate
    # Every row that did not change after the first page comes, in order: the moved ones have
    # gone up, past the cursor (live updates bring them), and none of the others is skipped.
    unchanged = [r for r in newest_first[3:] if r not in (newest_first[5], newest_first[6])]
    assert [r for r in rest if r in unchanged] == unchanged
    assert new not in rest


def test_the_cursor_keeps_every_filter(make: Factory) -> None:
    project = make.project()
    anon = make.visitor(project)
    known = make.visitor(project, authenticated=True, email="bob@shop.example")
    sent: dict[str, list[str]] = {"anon": [], "known": []}
    for i in range(5):
        for name, visitor in (("anon", anon), ("known", known)):
            rid = visitor.new_request_id()
            visitor.send(rid, f"parcel {name} {i}")
            sent[name].append(rid)
    owner = project.owner.headers
    for rid in sent["anon"][:2] + sent["known"][:2]:
        make.client.put(f"/{project.id}/requests/{rid}/close", headers=owner)
    tagged = make.client.put(
        f"/{project.id}/requests/{sent['known'][4]}/tag", json=[{"tag": "vip"}], headers=owner
    )
    assert tagged.status_code == 200, tagged.text
    other = make.member(project)
    assigned = make.client.put(
        f"/{project.id}/requests/{sent['anon'][3]}/assign", json={"assignee": other.id},
        headers=owner,
    )
    assert assigned.status_code == 200, assigned.text

    def both_ways(**params: Any) -> list[str]:
        by_cursor = _walk(make.client, project, limit=2, **params)
        whole = _page(make.client, project, limit=100, **params)
        assert by_cursor == [x["request_id"] for x in whole["requests"]]
        assert whole["count"] == len(by_cursor)
        return by_cursor

    assert len(both_ways()) == 10
    assert set(both_ways(status="closed")) == set(sent["anon"][:2] + sent["known"][:2])
    assert set(both_ways(status="1000")) == set(both_ways(status="closed"))
    assert len(both_ways(status="open")) == 6
    assert set(both_ways(authenticated="true")) == set(sent["known"])
    assert set(both_ways(authenticated="false", status="open")) == set(sent["anon"][2:])
    assert set(both_ways(text="BOB@shop")) == set(sent["known"])
    assert set(both_ways(full_text="parcel anon")) == set(sent["anon"])
    assert both_ways(tags="vip") == [sent["known"][4]]
    assert set(both_ways(lead=_lead_of(make, project, sent["known"][0]))) == set(sent["known"])
    # Routing gave the owner every conversation; one open one went to the other agent since.
    assert len(both_ways(mine="true", status="open")) == 5
    mine = _walk_as(make, project, other.headers, mine="true", limit=1)
    assert mine == [sent["anon"][3]]


def _lead_of(make: Factory, project: Project, rid: str) -> str:
    r = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)
    return str(r.json()["lead"]["_id"])


def _walk_as(make: Factory, project: Project, headers: dict[str, str], **params: Any) -> list[str]:
    seen: list[str] = []
    after: str | None = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        body = make.client.get(f"/{project.id}/requests", params=query, headers=headers).json()
        seen.extend(x["request_id"] for x in body["requests"])
        after = body["next"]
        if after is None:
            return seen


def test_a_visitor_pages_its_own_conversations_by_cursor(make: Factory) -> None:
    project = make.project()
    visitor, rids = _conversations(make, project, 3)
    _conversations(make, project, 2)  # someone else's
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        r = make.client.get(f"/{project.id}/requests/me", params=params, headers=visitor.headers)
        assert r.status_code == 200, r.text
        seen.extend(x["request_id"] for x in r.json()["requests"])
        if r.json()["next"] is None:
            break
        params["after"] = r.json()["next"]
    assert seen == rids[::-1]


def _refused(make: Factory, project: Project, **params: Any) -> str:
    r = make.client.get(f"/{project.id}/requests", params=params, headers=project.owner.headers)
    assert r.status_code == 422, r.text
    assert set(r.json()) >= {"code", "message"}
    return str(r.json()["code"])


def test_a_bad_or_tampered_cursor_is_refused(make: Factory) -> None:
    project = make.project()
    _conversations(make, project, 3)
    cursor = _page(make.client, project, limit=1)["next"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    place, signature = raw[:-12], raw[-12:]
    updated_at, _, row_id = place.decode().partition(".")
    # The same signature over a place one millisecond later: a forged position.
    forged = f"{int(updated_at) + 1}.{row_id}".encode() + signature
    forged_cursor = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()

    assert _refused(make, project, after=forged_cursor) == "invalid_cursor"
    assert _refused(make, project, after="not a cursor") == "invalid_cursor"
    assert _refused(make, project, after=cursor[:-2]) == "invalid_cursor"
    assert _refused(make, project, after="") == "validation_error"
    assert _refused(make, project, after=cursor, page=1) == "page_with_cursor"
    # A cursor of another project does not position this one's list.
    other = make.project(project.owner)
    _conversations(make, other, 2)
    r = make.client.get(
        f"/{other.id}/requests", params={"after": cursor}, headers=project.owner.headers
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"


def test_count_is_exact_below_the_cap_and_capped_above(app_factory: Any) -> None:
    make = Factory(app_factory(list_count_cap=4))
    project = make.project()
    _, rids = _conversations(make, project, 6)
    for rid in rids[:3]:
        make.client.put(f"/{project.id}/requests/{rid}/close", headers=project.owner.headers)

    everything = _page(make.client, project, limit=2)
    closed = _page(make.client, project, status="closed")
    at_cap = _page(make.client, project, status="open", limit=1)

    assert (everything["count"], everything["countCapped"]) == (4, True)
    assert (closed["count"], closed["countCapped"]) == (3, False)
    assert (at_cap["count"], at_cap["countCapped"]) == (3, False)
    # Capped or not, every row is still reachable.
    assert sorted(_walk(make.client, project, limit=4)) == sorted(rids)


def test_a_cap_of_zero_counts_exactly(app_factory: Any) -> None:
    make = Factory(app_factory(list_count_cap=0))
    project = make.project()
    _conversations(make, project, 3)
    body = _page(make.client, project, limit=1)
    assert (body["count"], body["countCapped"]) == (3, False)


def test_tiledesk_page_numbers_still_page_with_an_exact_small_count(make: Factory) -> None:
    project = make.project()
    _, rids = _conversations(make, project, 5)

    pages = [_page(make.client, project, limit=2, page=n) for n in range(3)]

    assert [[x["request_id"] for x in p["requests"]] for p in pages] == [
        rids[::-1][0:2], rids[::-1][2:4], rids[::-1][4:5]
    ]
    assert all(p["count"] == 5 and p["perPage"] == 2 for p in pages)
    assert pages[-1]["next"] is None and pages[0]["next"]
    # A page number's `next` continues exactly where that page ended.
    after_second = _page(make.client, project, limit=2, after=pages[1]["next"])
    assert after_second["requests"] == pages[2]["requests"]
