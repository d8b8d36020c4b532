"""/ws input that once reached the database or the topic table unchecked: ``since`` beyond what
an integer column holds, topics with control characters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Factory
from tests.realtime.wsclient import signed_in


@pytest.mark.parametrize(
    "since",
    [2**63, 2**64 + 1, 10**40, -1, 1.5, 1e300, "9" * 5000, True, [1], {"ms": 1}],
    ids=["2^63", "2^64+1", "10^40", "negative", "fraction", "1e300", "huge-string", "bool",
         "list", "object"],
)
def test_a_since_out_of_range_is_a_bad_frame_not_an_internal_error(
    make: Factory, since: Any
) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    topic = f"/{project.id}/requests/{rid}/messages"
    with signed_in(make.client, visitor.token) as widget:
        widget.session.send_text(
            json.dumps({"action": "subscribe", "payload": {"topic": topic, "since": since}})
        )
        error = widget.expect("error")
        assert error["code"] == "bad_frame", error
        assert error["details"][0]["loc"][:3] == ["subscribe", "payload", "since"]
        # Nothing was subscribed and the socket still works: a valid resume replays.
        ack = widget.subscribe(topic, since=0)
        assert [m["text"] for m in ack["objects"]] == ["hello"]


def test_the_largest_since_is_accepted_and_replays_nothing(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    with signed_in(make.client, visitor.token) as widget:
        ack = widget.subscribe(f"/{project.id}/requests/{rid}/messages", since=253402300799999)
        assert (ack["replayed"], ack["complete"]) == (0, True)
    with signed_in(make.client, project.owner.token) as agent:
        ack = agent.subscribe(f"/{project.id}/requests", since="2025-01-01T00:00:00Z")
        assert [r["request_id"] for r in ack["objects"]] == [rid]


@pytest.mark.parametrize("suffix", ["\n", "\r\n", "\t", "\x00", "\x7f", "\x1b[0m"])
def test_a_topic_with_a_control_character_is_refused(make: Factory, suffix: str) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    with signed_in(make.client, project.owner.token) as agent:
        for topic in (f"/{project.id}/requests", f"/{project.id}/requests/{rid}/messages"):
            agent.send("subscribe", topic=topic + suffix)
            error = agent.expect("error")
            assert error["code"] == "bad_frame", error
        # So a newline cannot make a second, differently spelled subscription to one topic.
        agent.subscribe(f"/{project.id}/requests")
        agent.send("unsubscribe", topic=f"/{project.id}/requests\n")
        assert agent.expect("error")["code"] == "bad_frame"


def test_the_topic_parser_matches_names_in_full() -> None:
    from frontdesk.errors import BadRequest
    from frontdesk.realtime.topics import parse_topic

    pid = "65f0c0ffee00000000000001"
    assert parse_topic(f"/{pid}/requests").kind == "requests"
    for name in (f"/{pid}/requests\n", f"/{pid}/project_users/{pid}\n", f" /{pid}/requests"):
        with pytest.raises(BadRequest) as refused:
            parse_topic(name)
        assert refused.value.code == "unknown_topic"
