"""Trust tiers live: a conversation held for its department's tier reaches no agent's socket
until its visitor verifies; a step-up reaches the visitor, and its outcome the dashboard."""

from __future__ import annotations

from typing import Any

from tests.conftest import Factory, Project, Visitor, sign_customer_token
from tests.realtime.wsclient import Socket, signed_in


def sign_in_with_merge(make: Factory, project: Project, anonymous: Visitor, uid: str) -> Any:
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, _id=uid, firstname="Ada")
    r = make.client.post("/auth/signinWithCustomToken",
                         headers={"Authorization": "JWT " + token},
                         json={"anonymous_token": anonymous.token})
    assert r.status_code == 200, r.text
    return r.json()


def next_publish(socket: Socket, topic: str) -> dict[str, Any]:
    while True:
        payload = socket.expect("publish")
        if payload["topic"] == topic:
            return payload


def test_a_held_conversation_reaches_no_agent_socket_until_the_visitor_verifies(
    make: Factory,
) -> None:
    project = make.project()
    agent = make.member(project)
    r = make.client.post(f"/{project.id}/departments",
                         json={"name": "Grades", "minTier": "authenticated",
                               "agents": [agent.id]},
                         headers=project.owner.headers)
    grades = r.json()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    topic = f"/{project.id}/requests"
    with signed_in(make.client, agent.token) as socket:
        socket.subscribe(topic)
        assert visitor.send(rid, "my grades", departmentid=grades["_id"]).status_code == 200
        socket.nothing_more(0.5)
        # Nor can the agent subscribe to it directly.
        socket.send("subscribe", topic=f"{topic}/{rid}")
        error = socket.expect("error")
        assert error["code"] == "request_not_found"
        sign_in_with_merge(make, project, visitor, "student-7")
        created = next_publish(socket, topic)
        assert created["method"] == "CREATE"
        [conversation] = created["message"]
        assert conversation["request_id"] == rid and conversation["heldForTier"] is None
        assert conversation["tier"] == "authenticated"
    # A fresh subscription's snapshot has it now, and it was never in one before.
    with signed_in(make.client, agent.token) as socket:
        ack = socket.subscribe(topic)
        assert rid in [c["request_id"] for c in ack["objects"]]


def test_a_held_conversation_is_not_in_an_agents_snapshot(make: Factory) -> None:
    project = make.project()
    r = make.client.post(f"/{project.id}/departments",
                         json={"name": "Fees", "minTier": "email_verified"},
                         headers=project.owner.headers)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "fees", departmentid=r.json()["_id"]).status_code == 200
    with signed_in(make.client, project.owner.token) as socket:
        ack = socket.subscribe(f"/{project.id}/requests")
        assert rid not in [c["request_id"] for c in ack["objects"]]
    # The visitor hears its own conversation, held, with the line asking it to verify.
    with signed_in(make.client, visitor.token) as socket:
        ack = socket.subscribe(f"/{project.id}/requests/{rid}/messages")
        lines = [m["attributes"] for m in ack["objects"] if m["senderKind"] == "system"]
        assert lines == [{"subtype": "verification_required", "tier": "email_verified"}]


def test_step_up_live_on_both_sides(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "about my fees").status_code == 200
    conversation_topic = f"/{project.id}/requests/{rid}"
    with signed_in(make.client, project.owner.token) as dashboard, \
            signed_in(make.client, visitor.token) as widget:
        dashboard.subscribe(conversation_topic)
        widget.subscribe(conversation_topic + "/messages")
        r = make.client.post(f"{conversation_topic}/verification_requests",
                             json={"tier": "authenticated"}, headers=project.owner.headers)
        assert r.status_code == 200, r.text
        line = next_publish(widget, conversation_topic + "/messages")["message"][0]
        assert line["senderKind"] == "system"
        assert line["attributes"]["subtype"] == "verification_requested"
        asked = next_publish(dashboard, conversation_topic)["message"][0]
        assert asked["verificationRequest"]["status"] == "pending"
        sign_in_with_merge(make, project, visitor, "student-8")
        upgraded = next_publish(dashboard, conversation_topic)["message"][0]
        assert upgraded["isAuthenticated"] is True and upgraded["tier"] == "authenticated"
        assert upgraded["verificationRequest"]["status"] == "verified"
        assert upgraded["attributes"]["senderAuthInfo"]["verified"] is True
