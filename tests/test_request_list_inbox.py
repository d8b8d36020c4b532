"""``GET /:pid/requests?view=inbox``: the agents' list rows, on both databases.

Each inbox row must say exactly what the full (Tiledesk) row says about the fields the list
draws — the same order, count and cursors — while carrying nothing else: no attributes the
visitor or agents wrote, no private notes.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Factory, Project
from tests.mailbox import Mailbox, code_in
from tests.test_email_codes import ask_code, confirm

INBOX_KEYS = {
    "_id", "request_id", "status", "first_text", "last_text", "tags",
    "isAuthenticated", "tier", "emailProof", "requester", "lead", "createdAt", "updatedAt",
    "unread",
}


def _list(make: Factory, project: Project, **params: Any) -> dict[str, Any]:
    r = make.client.get(f"/{project.id}/requests", params=params, headers=project.owner.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _email_proof(full: dict[str, Any]) -> dict[str, Any] | None:
    """What the dashboard derived from a full row before the inbox view existed."""
    if full["tier"] != "email_verified":
        return None
    lead = full["lead"] or {}
    entry = (lead.get("provenance") or {}).get("email") or {}
    if entry.get("source") == "email_code" and lead.get("email"):
        return {"email": lead["email"], "at": entry.get("at")}
    verified = full["attributes"]["senderAuthInfo"]["emailVerified"]
    return {"email": verified["email"], "at": verified["verifiedAt"]}


def _expected(full: dict[str, Any]) -> dict[str, Any]:
    requester = full["requester"]
    lead = full["lead"]
    return {
        **{k: full[k] for k in INBOX_KEYS - {"requester", "lead", "emailProof"}},
        "emailProof": _email_proof(full),
        "requester": {
            "uuid_user": requester["uuid_user"],
            "firstname": requester["firstname"],
            "lastname": requester["lastname"],
            "isAuthenticated": requester["isAuthenticated"],
        },
        "lead": None if lead is None else {
            "_id": lead["_id"], "lead_id": lead["lead_id"], "fullname": lead["fullname"],
            "email": lead["email"],
        },
    }


def test_inbox_rows_say_what_full_rows_say_and_nothing_more(
    mailing: Factory, mailbox: Mailbox
) -> None:
    make = mailing
    project = make.project()
    anonymous = make.visitor(project, firstname="Ann", lastname="Onym")
    anonymous.send(anonymous.new_request_id(), "hello", attributes={"cart": "x" * 500})
    customer = make.visitor(project, authenticated=True, firstname="Cy", lastname="Custom",
                            email="cy@example.com")
    tagged = customer.new_request_id()
    customer.send(tagged, "I am signed in")
    customer.send(tagged, "and waiting")
    r = make.client.put(f"/{project.id}/requests/{tagged}/tag",
                        json=[{"tag": "vip", "color": "#43B1F2"}], headers=project.owner.headers)
    assert r.status_code == 200, r.text
    r = make.client.post(f"/{project.id}/requests/{tagged}/notes", json={"text": "secret"},
                         headers=project.owner.headers)
    assert r.status_code == 200, r.text
    prover = make.visitor(project)
    prover.send(prover.new_request_id(), "about my fees")
    assert ask_code(prover, "ada@example.com").status_code == 200
    [mail] = mailbox.wait_for("ada@example.com")
    assert confirm(prover, "ada@example.com", code_in(mail)).status_code == 200

    full = _list(make, project, status="open")
    inbox = _list(make, project, status="open", view="inbox")

    assert {k: inbox[k] for k in ("perPage", "count", "countCapped")} == {
        k: full[k] for k in ("perPage", "count", "countCapped")
    }
    assert inbox["count"] == 3
    assert inbox["requests"] == [_expected(row) for row in full["requests"]]
    assert all(set(row) == INBOX_KEYS for row in inbox["requests"])
    by_tier = {row["tier"]: row for row in inbox["requests"]}
    assert set(by_tier) == {"anonymous", "authenticated", "email_verified"}
    assert by_tier["email_verified"]["emailProof"]["email"] == "ada@example.com"
    assert by_tier["authenticated"]["requester"]["isAuthenticated"] is True
    assert by_tier["authenticated"]["unread"] == 2
    assert [t["tag"] for t in by_tier["authenticated"]["tags"]] == ["vip"]
    # Nothing the list does not draw: no attributes, no notes, and far fewer bytes.
    page = make.client.get(f"/{project.id}/requests", params={"status": "open", "view": "inbox"},
                           headers=project.owner.headers).content
    assert b"secret" not in page and b"xxxxx" not in page and b"senderAuthInfo" not in page
    whole = make.client.get(f"/{project.id}/requests", params={"status": "open"},
                            headers=project.owner.headers).content
    assert len(page) * 3 < len(whole)


def test_inbox_pages_follow_the_same_filters_and_cursors(make: Factory) -> None:
    project = make.project()
    visitors = [make.visitor(project), make.visitor(project, authenticated=True)]
    for i in range(7):
        visitors[i % 2].send(visitors[i % 2].new_request_id(), f"question {i}")

    def walk(**params: Any) -> list[str]:
        seen: list[str] = []
        body = _list(make, project, limit=2, **params)
        while True:
            seen += [row["request_id"] for row in body["requests"]]
            if body["next"] is None:
                return seen
            body = _list(make, project, limit=2, after=body["next"], **params)

    for params in ({"status": "open"}, {"authenticated": "true"}, {"text": "question 3"}):
        assert walk(view="inbox", **params) == walk(**params), params
    assert len(walk(view="inbox", status="open")) == 7
    paged = _list(make, project, view="inbox", limit=2, page=1)["requests"]
    assert [r["request_id"] for r in paged] == [
        r["request_id"] for r in _list(make, project, limit=2, page=1)["requests"]
    ]


def test_an_unknown_view_is_refused(make: Factory) -> None:
    project = make.project()
    r = make.client.get(f"/{project.id}/requests", params={"view": "compact"},
                        headers=project.owner.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error" and "view" in r.json()["message"]
