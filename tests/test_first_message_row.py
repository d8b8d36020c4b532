"""A first message builds its conversation's joined row from what it wrote instead of reading
it back: what agents are told live and what the visitor is answered must equal what a later
read of the same conversation says, for every kind of first message, on both databases."""

from __future__ import annotations

from typing import Any

from tests.conftest import Factory, Project, Visitor
from tests.realtime.wsclient import Socket, signed_in


def _updated(agent: Socket, rid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The CREATE of ``rid`` and the UPDATE its first message then announces."""
    seen: dict[str, dict[str, Any]] = {}
    while "UPDATE" not in seen:
        frame = agent.expect("publish")
        [request] = frame["message"]
        if request["request_id"] == rid:
            seen.setdefault(frame["method"], request)
    return seen["CREATE"], seen["UPDATE"]


def _first_message(
    make: Factory, project: Project, agent: Socket, visitor: Visitor, **body: Any
) -> None:
    rid = visitor.new_request_id()
    answer = visitor.send(rid, "hello there", **body)
    assert answer.status_code == 200, answer.text
    created, updated = _updated(agent, rid)
    read = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)
    assert read.status_code == 200, read.text
    assert updated == read.json()
    # The CREATE differs only by what the message itself then changed.
    changed = {"last_text", "lastMessage", "updatedAt"}
    assert {k: v for k, v in created.items() if k not in changed} == {
        k: v for k, v in updated.items() if k not in changed
    }
    seen = make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers)
    assert answer.json()["request"] == seen.json()


def test_the_row_a_first_message_builds_is_the_row_read_back(make: Factory) -> None:
    project = make.project()
    with signed_in(make.client, project.owner.token) as agent:
        agent.subscribe(f"/{project.id}/requests")
        # A new anonymous visitor: its lead is created with the request.
        anonymous = make.visitor(project, firstname="Ann")
        _first_message(make, project, agent, anonymous, attributes={"plan": "gold"},
                       senderFullname="Ann Onym", sourcePage="https://shop.example/cart",
                       language="it", userAgent="test-agent/1.0")
        # Its second conversation: the existing lead is updated (typed e-mail, newer time).
        _first_message(make, project, agent, anonymous, attributes={"userEmail": "a@b.example"})
        # A signed-in customer, whose token fills the lead.
        customer = make.visitor(project, authenticated=True, firstname="Cy", lastname="Custom",
                                email="cy@example.com")
        _first_message(make, project, agent, customer, channel={"name": "email"})
        _first_message(make, project, agent, customer)
        # Nobody available: the conversation waits unassigned.
        r = make.client.put(f"/{project.id}/project_users", json={"user_available": False},
                            headers=project.owner.headers)
        assert r.status_code == 200, r.text
        _first_message(make, project, agent, make.visitor(project))
