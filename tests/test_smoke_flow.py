"""One conversation end to end: the path every other feature builds on."""

from __future__ import annotations

from tests.conftest import Factory


def test_visitor_opens_conversation_and_agent_replies(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()

    first = visitor.send(rid, "hello, I need help")
    assert first.status_code == 200, first.text
    request = first.json()["request"]
    assert request["status"] == 200  # the owner is available: routed at once
    assert request["participants"] == [project.owner.id]
    assert request["lead"]["lead_id"] == visitor.id

    reply = make.client.post(
        f"/{project.id}/requests/{rid}/messages",
        json={"text": "how can I help?"},
        headers=project.owner.headers,
    )
    assert reply.status_code == 200, reply.text

    history = make.client.get(f"/{project.id}/requests/{rid}/messages", headers=visitor.headers)
    assert [m["text"] for m in history.json()] == ["hello, I need help", "how can I help?"]
