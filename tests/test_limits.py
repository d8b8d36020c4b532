"""Abuse limits: token buckets per IP and per project, 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from frontdesk.actions.limits import TokenBuckets
from frontdesk.clock import FakeClock
from tests.conftest import Factory


def test_bucket_allows_a_burst_then_refills_with_time() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(clock, rate=3)
    assert [buckets.take("ip") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("ip") == 20.0  # 3 a minute: one back every 20 s
    assert buckets.take("other-ip") == 0.0
    clock.advance(20)
    assert buckets.take("ip") == 0.0
    assert TokenBuckets(clock, rate=0).take("ip") == 0.0  # 0 turns the limit off


def test_anonymous_signins_are_limited_per_ip(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock, signin_rate_per_ip=2))
    project = make.project()
    body = {"id_project": project.id}
    for _ in range(2):
        assert make.client.post("/auth/signinAnonymously", json=body).status_code == 200
    refused = make.client.post("/auth/signinAnonymously", json=body)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.json() == {"success": False, "code": "rate_limited",
                              "message": "too many anonymous sign-ins; retry in 30 s"}
    clock.advance(30)
    assert make.client.post("/auth/signinAnonymously", json=body).status_code == 200


def test_visitor_messages_are_limited_per_project(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock, message_rate_per_project=2))
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "one").status_code == 200
    assert visitor.send(rid, "two").status_code == 200
    refused = visitor.send(rid, "three")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "retry-after" in refused.headers
    history = make.client.get(f"/{project.id}/requests/{rid}/messages", headers=visitor.headers)
    assert [m["text"] for m in history.json()] == ["one", "two"]  # nothing written
    agent_reply = make.client.post(f"/{project.id}/requests/{rid}/messages",
                                   json={"text": "agents are not limited"},
                                   headers=project.owner.headers)
    assert agent_reply.status_code == 200
