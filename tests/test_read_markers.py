"""Read markers: unread counts kept per agent on the server and listed with the requests."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.conftest import Agent, Factory


def _unread(client: TestClient, agent: Agent, pid: str) -> dict[str, int]:
    r = client.get(f"/{pid}/requests", params={"status": "open"}, headers=agent.headers)
    assert r.status_code == 200, r.text
    return {row["request_id"]: row["unread"] for row in r.json()["requests"]}


def _messages(client: TestClient, agent: Agent, pid: str, rid: str) -> list[dict[str, Any]]:
    r = client.get(f"/{pid}/requests/{rid}/messages", headers=agent.headers)
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body


def test_unread_counts_are_per_agent_and_follow_the_marker(make: Factory) -> None:
    project = make.project()
    owner, other = project.owner, make.member(project)
    client = make.client
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    for text in ("one", "two", "three"):
        assert visitor.send(rid, text).status_code == 200
    quiet = visitor.new_request_id()
    assert visitor.send(quiet, "hello").status_code == 200
    assert _unread(client, owner, project.id) == {rid: 3, quiet: 1}

    second = _messages(client, owner, project.id, rid)[1]
    r = client.put(f"/{project.id}/requests/{rid}/read", json={"message_id": second["_id"]},
                   headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["unread"] == 1 and r.json()["message_id"] == second["_id"]
    assert _unread(client, owner, project.id) == {rid: 1, quiet: 1}
    # Another agent's counts are its own.
    assert _unread(client, other, project.id) == {rid: 3, quiet: 1}

    # An agent's reply is not unread; a marker never moves back.
    r = client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "hi"},
                    headers=owner.headers)
    assert r.status_code == 200
    first = _messages(client, owner, project.id, rid)[0]
    r = client.put(f"/{project.id}/requests/{rid}/read", json={"message_id": first["_id"]},
                   headers=owner.headers)
    assert r.json()["message_id"] == second["_id"]
    assert _unread(client, owner, project.id)[rid] == 1

    # Without a message: everything up to the newest one.
    r = client.put(f"/{project.id}/requests/{rid}/read", headers=owner.headers)
    assert r.status_code == 200 and r.json()["unread"] == 0
    assert _unread(client, owner, project.id) == {rid: 0, quiet: 1}
    assert client.get(f"/{project.id}/requests/{rid}/read",
                      headers=owner.headers).json()["unread"] == 0
    assert visitor.send(rid, "four").status_code == 200
    assert _unread(client, owner, project.id)[rid] == 1


def test_the_list_says_who_wrote_last(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    client, owner = make.client, project.owner
    row = client.get(f"/{project.id}/requests/{rid}", headers=owner.headers).json()
    assert row["lastMessage"]["senderKind"] == "visitor"
    client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "hi"},
                headers=owner.headers)
    row = client.get(f"/{project.id}/requests/{rid}", headers=owner.headers).json()
    assert row["lastMessage"]["senderKind"] == "agent"
    assert row["lastMessage"]["_id"] == _messages(client, owner, project.id, rid)[-1]["_id"]
    # A visitor's view of its own conversation has neither markers nor counts.
    mine = client.get(f"/{project.id}/requests/me", headers=visitor.headers).json()
    assert "unread" not in mine["requests"][0] and "lastMessage" not in mine["requests"][0]


def test_markers_are_refused_to_outsiders_and_bad_input(make: Factory) -> None:
    project = make.project()
    elsewhere = make.project()
    client = make.client
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    other_rid = make.visitor(project).new_request_id()
    make.visitor(project).send(other_rid, "x")
    url = f"/{project.id}/requests/{rid}/read"
    assert client.put(url, headers=visitor.headers).json()["code"] == "agents_only"
    r = client.put(url, headers=elsewhere.owner.headers)
    assert r.status_code == 403 and r.json()["code"] == "not_a_member"
    r = client.put(url, json={"message_id": "nothex"}, headers=project.owner.headers)
    assert r.status_code in (400, 422)
    r = client.put(url, json={"message_id": "a" * 24}, headers=project.owner.headers)
    assert r.status_code == 422 and r.json()["code"] == "unknown_message"
    r = client.put(f"/{project.id}/requests/support-group-{project.id}-{'0' * 32}/read",
                   headers=project.owner.headers)
    assert r.status_code == 404
    assert _unread(client, project.owner, project.id)[rid] == 1


def test_a_marker_reaches_the_agents_own_sockets_only(make: Factory) -> None:
    project = make.project()
    owner, other = project.owner, make.member(project)
    client = make.client
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    members = {m["id_user"]["_id"]: m["_id"] for m in
               client.get(f"/{project.id}/project_users", headers=owner.headers).json()}
    topic = f"/{project.id}/project_users/{members[owner.id]}"
    with client.websocket_connect(f"/ws?token={owner.token}") as mine, \
            client.websocket_connect(f"/ws?token={other.token}") as theirs:
        for ws in (mine, theirs):
            assert ws.receive_json()["action"] == "authenticated"
            ws.send_json({"action": "subscribe", "payload": {"topic": topic}})
            while ws.receive_json()["action"] != "subscribed":
                pass
        client.put(f"/{project.id}/requests/{rid}/read", headers=owner.headers)
        frame = mine.receive_json()
        assert frame["action"] == "publish"
        assert frame["payload"]["message"][0]["request_id"] == rid
        assert frame["payload"]["message"][0]["unread"] == 0
        # The other agent hears the next change of that member, not the marker before it.
        client.put(f"/{project.id}/project_users", json={"user_available": False},
                   headers=owner.headers)
        frame = theirs.receive_json()
        assert frame["payload"]["message"][0].get("role") == "owner"


def test_unread_counts_match_the_visitors_messages_after_the_marker(make: Factory) -> None:
    """Counted from the conversation's and the marker's counters, the unread count must be
    what counting the messages themselves gives, through replies, system lines and moves."""
    import random

    rng = random.Random(17)
    project = make.project()
    owner, client = project.owner, make.client
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "start").status_code == 200
    # A system line (the agent asks for a verification): neither side's message.
    r = client.post(f"/{project.id}/requests/{rid}/verification_requests",
                    json={"tier": "authenticated"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    marker: str | None = None
    for step in range(30):
        action = rng.choice(("visitor", "visitor", "agent", "mark", "mark_newest"))
        if action == "visitor":
            assert visitor.send(rid, f"visitor {step}").status_code == 200
        elif action == "agent":
            r = client.post(f"/{project.id}/requests/{rid}/messages",
                            json={"text": f"agent {step}"}, headers=owner.headers)
            assert r.status_code == 200, r.text
        else:
            listed = _messages(client, owner, project.id, rid)
            target = rng.choice(listed) if action == "mark" else None
            r = client.put(f"/{project.id}/requests/{rid}/read",
                           json={"message_id": target["_id"]} if target else None,
                           headers=owner.headers)
            assert r.status_code == 200, r.text
            marker = r.json()["message_id"]
        listed = _messages(client, owner, project.id, rid)
        ids = [m["_id"] for m in listed]
        after = listed[ids.index(marker) + 1:] if marker else listed
        expected = sum(1 for m in after if m["senderKind"] == "visitor")
        assert _unread(client, owner, project.id)[rid] == expected, step
        inbox = client.get(f"/{project.id}/requests", params={"view": "inbox"},
                           headers=owner.headers).json()["requests"]
        assert [row["unread"] for row in inbox if row["request_id"] == rid] == [expected]
        assert client.get(f"/{project.id}/requests/{rid}/read",
                          headers=owner.headers).json()["unread"] == expected
    assert {m["senderKind"] for m in _messages(client, owner, project.id, rid)} >= {
        "visitor", "agent", "system"}
