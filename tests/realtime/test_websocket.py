"""/ws in-process: authentication, topics and who may hear them, frames, named close codes."""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack
from typing import Any

import pytest
from starlette.testclient import TestClient

from frontdesk.clock import FakeClock
from tests.conftest import Factory
from tests.realtime.wsclient import connect, signed_in


def _reply(make: Factory, project_id: str, rid: str, token: str, text: str) -> dict[str, Any]:
    r = make.client.post(
        f"/{project_id}/requests/{rid}/messages",
        json={"text": text},
        headers={"Authorization": token},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_agent_sees_a_visitors_new_request(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    with signed_in(make.client, project.owner.token) as agent:
        ack = agent.subscribe(f"/{project.id}/requests")
        assert ack == {
            "topic": f"/{project.id}/requests",
            "replayed": 0,
            "complete": True,
            "objects": [],
        }

        assert visitor.send(rid, "my order is late").status_code == 200

        created = agent.expect("publish")
        assert created["topic"] == f"/{project.id}/requests"
        assert created["method"] == "CREATE"
        assert [r["request_id"] for r in created["message"]] == [rid]
        assert created["message"][0]["first_text"] == "my order is late"


def test_visitor_sees_the_agents_reply(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello?")
    topic = f"/{project.id}/requests/{rid}/messages"
    with signed_in(make.client, visitor.token) as widget:
        widget.send("subscribe", topic=topic)
        history = widget.expect("publish")
        assert [m["text"] for m in history["message"]] == ["hello?"]
        assert widget.expect("subscribed")["replayed"] == 1

        _reply(make, project.id, rid, project.owner.token, "hi, how can I help?")

        live = widget.expect("publish")
        assert live["topic"] == topic
        assert live["method"] == "CREATE"
        assert [(m["text"], m["sender"]) for m in live["message"]] == [
            ("hi, how can I help?", project.owner.id)
        ]


def test_a_visitor_cannot_listen_to_another_visitors_conversation(make: Factory) -> None:
    project = make.project()
    victim, attacker = make.visitor(project), make.visitor(project)
    rid = victim.new_request_id()
    victim.send(rid, "my card number is …")
    with signed_in(make.client, attacker.token) as socket:
        for topic in (f"/{project.id}/requests/{rid}/messages", f"/{project.id}/requests/{rid}"):
            socket.send("subscribe", topic=topic)
            error = socket.expect("error")
            assert (error["code"], error["topic"]) == ("not_your_request", topic)

        victim.send(rid, "and the expiry date")
        _reply(make, project.id, rid, project.owner.token, "thanks")
        socket.nothing_more()


@pytest.mark.parametrize("suffix", ["/requests", "/project_users/{puid}"])
def test_visitors_cannot_subscribe_to_project_wide_topics(make: Factory, suffix: str) -> None:
    project = make.project()
    visitor = make.visitor(project)
    team = make.client.get(f"/{project.id}/project_users", headers=project.owner.headers).json()
    topic = f"/{project.id}" + suffix.format(puid=team[0]["_id"])
    with signed_in(make.client, visitor.token) as socket:
        socket.send("subscribe", topic=topic)
        assert socket.expect("error")["code"] == "agents_only"


def test_nobody_listens_across_projects(make: Factory) -> None:
    ours, theirs = make.project(), make.project()
    their_visitor = make.visitor(theirs)
    rid = their_visitor.new_request_id()
    their_visitor.send(rid, "private")
    our_visitor = make.visitor(ours)
    with signed_in(make.client, ours.owner.token) as agent:
        agent.send("subscribe", topic=f"/{theirs.id}/requests")
        assert agent.expect("error")["code"] == "not_a_member"
        agent.send("subscribe", topic=f"/{theirs.id}/requests/{rid}/messages")
        assert agent.expect("error")["code"] == "not_a_member"
    with signed_in(make.client, our_visitor.token) as visitor:
        visitor.send("subscribe", topic=f"/{theirs.id}/requests/{rid}/messages")
        assert visitor.expect("error")["code"] == "wrong_project"


def test_a_forged_token_is_refused_with_4401(make: Factory) -> None:
    project = make.project()
    forged = project.owner.token[:-4] + (
        "AAAA" if not project.owner.token.endswith("AAAA") else "BBBB"
    )
    with connect(make.client, forged) as socket:
        assert socket.expect("error")["code"] == "bad_signature"
        assert socket.closed() == (4401, "bad_signature")
    with connect(make.client, "JWT not-a-token") as socket:
        assert socket.closed() == (4401, "malformed_token")


def test_an_expired_token_is_refused(app_factory: Any) -> None:
    clock = FakeClock()
    client: TestClient = app_factory(clock=clock, agent_token_ttl=60)
    agent = Factory(client).agent()
    clock.advance(61)
    with connect(client, agent.token) as socket:
        assert socket.closed() == (4401, "token_expired")


def test_a_signed_out_token_is_refused(make: Factory) -> None:
    agent = make.agent()
    assert make.client.post("/auth/logout", headers=agent.headers).status_code == 200
    with connect(make.client, agent.token) as socket:
        assert socket.closed() == (4401, "session_revoked")


def test_signing_out_closes_the_open_socket_at_once(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    with signed_in(make.client, visitor.token) as socket:
        assert make.client.post("/auth/logout", headers=visitor.headers).status_code == 200
        assert socket.closed(timeout=2) == (4401, "session_revoked")


def test_erasing_a_contact_closes_its_sockets(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    lead = visitor.send(rid, "please forget me").json()["request"]["lead"]
    with signed_in(make.client, visitor.token) as socket:
        socket.subscribe(f"/{project.id}/requests/{rid}")
        erased = make.client.delete(
            f"/{project.id}/leads/{lead['_id']}", headers=project.owner.headers
        )
        assert erased.status_code == 200, erased.text
        assert socket.closed(timeout=2) == (4401, "session_revoked")


def test_authenticate_frame_instead_of_query_token(make: Factory) -> None:
    project = make.project()
    with connect(make.client) as socket:
        socket.send("authenticate", token=project.owner.token)
        assert socket.expect("authenticated")["user"]["_id"] == project.owner.id
        assert socket.subscribe(f"/{project.id}/requests")["replayed"] == 0


def test_subscribing_before_authenticating_closes_with_4401(make: Factory) -> None:
    project = make.project()
    with connect(make.client) as socket:
        socket.send("subscribe", topic=f"/{project.id}/requests")
        assert socket.expect("error")["code"] == "authentication_required"
        assert socket.closed() == (4401, "authentication_required")


def test_bad_frames_get_an_error_and_the_socket_keeps_working(make: Factory) -> None:
    project = make.project()
    with signed_in(make.client, project.owner.token) as socket:
        socket.session.send_text("{not json")
        assert socket.expect("error")["code"] == "bad_frame"
        socket.send("dance", topic="x")
        assert socket.expect("error")["code"] == "bad_frame"
        socket.send("subscribe", topic=f"/{project.id}/nothing")
        assert socket.expect("error")["code"] == "unknown_topic"
        socket.send("subscribe", topic=f"/{project.id}/requests/support-group-x/messages")
        assert socket.expect("error")["code"] == "unknown_topic"
        assert socket.subscribe(f"/{project.id}/requests")["topic"] == f"/{project.id}/requests"


def test_heartbeat_ping_is_answered_with_pong(make: Factory) -> None:
    agent = make.agent()
    with signed_in(make.client, agent.token) as socket:
        socket.session.send_text(
            json.dumps({"action": "heartbeat", "payload": {"message": {"text": "ping"}}})
        )
        message = socket._receive(5)
        assert json.loads(message["text"]) == {
            "action": "heartbeat",
            "payload": {"message": {"text": "pong"}},
        }


def test_a_frame_over_the_limit_closes_with_1009(app_factory: Any) -> None:
    client: TestClient = app_factory(ws_max_frame_bytes=1024)
    agent = Factory(client).agent()
    with signed_in(client, agent.token) as socket:
        socket.send("subscribe", topic="/" + "a" * 2000)
        assert socket.closed() == (1009, "frame_too_large")


def test_the_frame_limit_counts_utf8_bytes_not_characters(app_factory: Any) -> None:
    client: TestClient = app_factory(ws_max_frame_bytes=1024)
    agent = Factory(client).agent()
    frame = json.dumps(
        {"action": "subscribe", "payload": {"topic": "/" + "é" * 600}}, ensure_ascii=False
    )
    assert len(frame) <= 1024 < len(frame.encode())
    with signed_in(client, agent.token) as socket:
        socket.session.send_text(frame)
        assert socket.closed() == (1009, "frame_too_large")


def test_binary_frames_close_with_1003(make: Factory) -> None:
    agent = make.agent()
    with signed_in(make.client, agent.token) as socket:
        socket.session.send_bytes(b"\x00\x01")
        assert socket.closed() == (1003, "binary_frame")


def test_a_silent_socket_is_closed_after_missed_heartbeats(app_factory: Any) -> None:
    client: TestClient = app_factory(ws_heartbeat_interval=0.2)
    agent = Factory(client).agent()
    with signed_in(client, agent.token) as socket:
        pings = 0
        while True:
            message = socket._receive(timeout=3)
            if message["type"] == "websocket.close":
                break
            assert json.loads(message["text"])["payload"]["message"]["text"] == "ping"
            pings += 1
        assert (message["code"], message["reason"]) == (4408, "heartbeat_timeout")
        assert pings >= 1
    with connect(client) as anonymous:
        assert anonymous.closed(timeout=3) == (4401, "authentication_required")


def test_a_socket_that_answers_heartbeats_stays_open(app_factory: Any) -> None:
    client: TestClient = app_factory(ws_heartbeat_interval=0.2)
    agent = Factory(client).agent()
    with signed_in(client, agent.token) as socket:
        for _ in range(6):  # 1.2 s: three times the silence that closes a socket
            message = socket._receive(timeout=3)
            assert message["type"] == "websocket.send", message
            socket.session.send_text(
                json.dumps({"action": "heartbeat", "payload": {"message": {"text": "pong"}}})
            )


def test_team_member_changes_reach_the_project_user_topic(make: Factory) -> None:
    project = make.project()
    team = make.client.get(f"/{project.id}/project_users", headers=project.owner.headers).json()
    me = team[0]
    topic = f"/{project.id}/project_users/{me['_id']}"
    with signed_in(make.client, project.owner.token) as socket:
        socket.send("subscribe", topic=topic)
        assert socket.expect("publish")["message"][0]["user_available"] is True
        socket.expect("subscribed")
        r = make.client.put(
            f"/{project.id}/project_users/",
            json={"user_available": False},
            headers=project.owner.headers,
        )
        assert r.status_code == 200, r.text
        update = socket.expect("publish")
        assert (update["topic"], update["method"]) == (topic, "UPDATE")
        assert update["message"][0]["user_available"] is False


def test_unsubscribe_stops_delivery(make: Factory) -> None:
    project = make.project()
    with signed_in(make.client, project.owner.token) as socket:
        topic = f"/{project.id}/requests"
        socket.subscribe(topic)
        socket.send("unsubscribe", topic=topic)
        assert socket.expect("unsubscribed") == {"topic": topic}
        visitor = make.visitor(project)
        visitor.send(visitor.new_request_id(), "anyone?")
        socket.nothing_more()


def test_typing_and_read_receipts_reach_the_other_side_only(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    first = visitor.send(rid, "hello").json()
    messages = f"/{project.id}/requests/{rid}/messages"
    request = f"/{project.id}/requests/{rid}"
    with (
        signed_in(make.client, visitor.token) as widget,
        signed_in(make.client, project.owner.token) as dashboard,
    ):
        widget.subscribe(messages, after=first["_id"])
        dashboard.send("subscribe", topic=messages)
        dashboard.expect("publish")
        dashboard.expect("subscribed")
        dashboard.send("subscribe", topic=request)
        dashboard.expect("publish")
        dashboard.expect("subscribed")

        widget.send("typing", topic=messages, typing=True)
        typing = dashboard.expect("typing")
        assert (typing["request_id"], typing["user_id"], typing["typing"]) == (
            rid,
            visitor.id,
            True,
        )
        dashboard.nothing_more()  # once per socket, though it listens on both topics

        dashboard.send("read", topic=request, message_id=first["_id"])
        read = widget.expect("read")
        assert (read["user_id"], read["message_id"]) == (project.owner.id, first["_id"])
        widget.nothing_more()  # never echoed to the sender
        dashboard.nothing_more()


def test_typing_needs_a_subscription_to_the_conversation(make: Factory) -> None:
    project = make.project()
    victim, attacker = make.visitor(project), make.visitor(project)
    rid = victim.new_request_id()
    victim.send(rid, "hello")
    with (
        signed_in(make.client, attacker.token) as socket,
        signed_in(make.client, project.owner.token) as dashboard,
    ):
        dashboard.subscribe(f"/{project.id}/requests/{rid}")
        socket.send("typing", topic=f"/{project.id}/requests/{rid}", typing=True)
        assert socket.expect("error")["code"] == "not_subscribed"
        socket.send("read", topic=f"/{project.id}/requests/{rid}", message_id="a" * 24)
        assert socket.expect("error")["code"] == "not_subscribed"
        dashboard.nothing_more()


def test_resubscribing_with_the_last_message_replays_only_what_was_missed(
    make: Factory,
) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    seen = visitor.send(rid, "one").json()
    topic = f"/{project.id}/requests/{rid}/messages"
    _reply(make, project.id, rid, project.owner.token, "two")
    _reply(make, project.id, rid, project.owner.token, "three")
    with signed_in(make.client, visitor.token) as widget:
        widget.send("subscribe", topic=topic, after=seen["_id"])
        assert [m["text"] for m in widget.expect("publish")["message"]] == ["two", "three"]
        assert widget.expect("subscribed")["replayed"] == 2
        assert widget.subscribe(topic, lastMessageId=seen["_id"])["replayed"] == 2  # an alias
        widget.send("subscribe", topic=topic, after="f" * 24)
        assert widget.expect("error")["code"] == "unknown_cursor"


def test_a_socket_is_closed_when_its_token_expires(app_factory: Any) -> None:
    clock = FakeClock()
    client: TestClient = app_factory(clock=clock, agent_token_ttl=60, ws_heartbeat_interval=0.2)
    agent = Factory(client).agent()
    with signed_in(client, agent.token) as socket:
        clock.advance(61)
        assert socket.closed(timeout=3) == (4401, "token_expired")


def test_a_heartbeat_round_is_spread_over_the_interval(app_factory: Any) -> None:
    # Eight sockets in eight of the round's slices (0.05 s apart at a 1 s interval): their
    # first pings arrive at eight moments across the interval, not all at once.
    client: TestClient = app_factory(ws_heartbeat_interval=1.0)
    agent = Factory(client).agent()
    with ExitStack() as stack:
        sockets = [stack.enter_context(signed_in(client, agent.token)) for _ in range(8)]
        first_ping: list[float] = []

        def listen(socket: Any) -> None:
            message = socket._receive(timeout=3)
            assert json.loads(message["text"])["payload"]["message"]["text"] == "ping"
            first_ping.append(time.monotonic())

        threads = [threading.Thread(target=listen, args=(s,)) for s in sockets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(first_ping) == 8
        assert max(first_ping) - min(first_ping) >= 0.2
