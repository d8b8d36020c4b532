"""A subscribe sends one page bounded in bytes; ``complete: false`` says there is more, and a
client that pages on (resuming after the last message it got, or over REST) misses nothing."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import Factory
from tests.realtime.wsclient import signed_in

BUDGET = 16 * 1024
TEXT = "w" * 1000


def _long_conversation(client: TestClient, count: int) -> tuple[Factory, Any, str, list[str]]:
    make = Factory(client)
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    texts = [f"{n} {TEXT}" for n in range(count)]
    for text in texts:
        assert visitor.send(rid, text).status_code == 200
    return make, visitor, f"/{project.id}/requests/{rid}/messages", texts


def test_a_resume_longer_than_a_page_continues_in_pages_without_loss(app_factory: Any) -> None:
    client: TestClient = app_factory(ws_snapshot_bytes=BUDGET)
    _, visitor, topic, texts = _long_conversation(client, 60)
    with signed_in(client, visitor.token) as widget:
        first = widget.subscribe(topic)  # the newest page, to learn the first message's id
        assert first["complete"] is False  # 60 messages of 1 KB do not fit in 16 KiB
        widget.send("subscribe", topic=topic, since=0)
        received: list[dict[str, Any]] = []
        pages = 0
        while True:
            frame = widget._receive(5)["text"]
            if json.loads(frame)["action"] == "publish":
                assert len(frame.encode()) <= BUDGET + 200  # the page, and the frame around it
                received += json.loads(frame)["payload"]["message"]
                pages += 1
                ack = widget.expect("subscribed")
            elif json.loads(frame)["action"] == "subscribed":
                ack = json.loads(frame)["payload"]
            else:
                continue  # a heartbeat or another frame between the pages
            if ack["complete"]:
                break
            widget.send("subscribe", topic=topic, after=received[-1]["_id"])
        # Every message once, oldest first, no gap between pages.
        assert [m["text"] for m in received] == texts
        assert pages >= 4


def test_the_newest_page_fits_the_budget_and_older_pages_come_over_rest(
    app_factory: Any,
) -> None:
    client: TestClient = app_factory(ws_snapshot_bytes=BUDGET)
    _, visitor, topic, texts = _long_conversation(client, 40)
    with signed_in(client, visitor.token) as widget:
        ack = widget.subscribe(topic)
    newest = [m["text"] for m in ack["objects"]]
    assert ack["complete"] is False
    assert 0 < len(newest) < len(texts)
    assert newest == texts[-len(newest):]  # the newest ones, oldest first, without a gap
    older = client.get(
        topic, params={"before": ack["objects"][0]["_id"], "limit": 100}, headers=visitor.headers
    )
    assert older.status_code == 200, older.text
    assert [m["text"] for m in older.json()] + newest == texts


def test_a_short_conversation_still_arrives_whole(app_factory: Any) -> None:
    client: TestClient = app_factory(ws_snapshot_bytes=BUDGET)
    _, visitor, topic, texts = _long_conversation(client, 5)
    with signed_in(client, visitor.token) as widget:
        ack = widget.subscribe(topic)
        assert (ack["complete"], [m["text"] for m in ack["objects"]]) == (True, texts)
        resumed = widget.subscribe(topic, since=0)
        assert (resumed["complete"], [m["text"] for m in resumed["objects"]]) == (True, texts)

