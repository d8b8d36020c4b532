"""A client that floods /ws with frames is refused, then closed with 4429."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from frontdesk.realtime.rate_limit import TokenBucket
from tests.conftest import Factory
from tests.realtime.wsclient import signed_in

PING = json.dumps({"action": "heartbeat", "payload": {"message": {"text": "ping"}}})


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5)  # one token back after half a second at 2/s
    assert not bucket.take(0.5)
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]  # never over burst


def test_refusals_count_until_the_client_calms_down() -> None:
    bucket = TokenBucket(rate=1, burst=2, now=0.0)
    bucket.take(0.0), bucket.take(0.0)
    assert not bucket.take(0.0) and not bucket.take(0.5)
    assert bucket.refused == 2
    assert bucket.take(1.0)  # one token back, but not full: the count stands
    assert bucket.refused == 2
    assert bucket.take(5.0)  # full again: forgiven
    assert bucket.refused == 0


def test_frames_past_the_burst_are_refused_then_the_socket_is_closed(app_factory: Any) -> None:
    # A rate so low that no token comes back during the test.
    client: TestClient = app_factory(ws_frame_rate=0.01, ws_frame_burst=3)
    agent = Factory(client).agent()
    with signed_in(client, agent.token) as socket:
        for _ in range(3):
            socket.session.send_text(PING)
            assert json.loads(socket._receive(5)["text"])["payload"]["message"]["text"] == "pong"
        for _ in range(2):
            socket.session.send_text(PING)
            error = socket.expect("error")
            assert error["code"] == "rate_limited"
        socket.session.send_text(PING)
        assert socket.closed() == (4429, "rate_limited")


def test_a_refused_typing_frame_reaches_nobody(app_factory: Any) -> None:
    client: TestClient = app_factory(ws_frame_rate=0.01, ws_frame_burst=2)
    make = Factory(client)
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    topic = f"/{project.id}/requests/{rid}"
    with (
        signed_in(client, visitor.token) as widget,
        signed_in(client, project.owner.token) as dashboard,
    ):
        widget.subscribe(topic)  # the first frame of its budget
        dashboard.subscribe(topic)
        widget.send("typing", topic=topic, typing=True)  # the second
        assert dashboard.expect("typing")["typing"] is True
        widget.send("typing", topic=topic, typing=False)
        assert widget.expect("error")["code"] == "rate_limited"
        dashboard.nothing_more()
