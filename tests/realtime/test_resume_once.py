"""A resumed subscription gets each message once, even when a message's live event reaches the
process after the replay that already carried it (as it does across processes, through Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from frontdesk.app import create_app
from frontdesk.realtime.broker import InMemoryBroker
from frontdesk.realtime.events import Event
from tests.conftest import Factory, make_settings
from tests.realtime.wsclient import signed_in


class LateBroker(InMemoryBroker):
    """Delivers as the in-memory broker does, except while ``late``: then events wait for
    ``deliver_late`` — a broker whose delivery trails the commit, as Redis's does."""

    def __init__(self) -> None:
        super().__init__()
        self.late = False
        self.waiting: list[Event] = []

    async def publish(self, event: Event) -> None:
        if self.late:
            self.waiting.append(event)
        else:
            await super().publish(event)

    async def deliver_late(self) -> None:
        self.late = False
        waiting, self.waiting = self.waiting, []
        for event in waiting:
            await super().publish(event)


@pytest.fixture
def late(tmp_path: Path, database_url: str) -> Iterator[tuple[Factory, LateBroker]]:
    broker = LateBroker()
    app = create_app(make_settings(tmp_path, database_url), broker=broker)
    with TestClient(app) as client:
        yield Factory(client), broker


@pytest.mark.parametrize("cursor", ["after", "none"])
def test_a_message_replayed_before_its_live_event_arrives_is_sent_once(
    late: tuple[Factory, LateBroker], cursor: str
) -> None:
    make, broker = late
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    first = visitor.send(rid, "is anyone there?").json()
    topic = f"/{project.id}/requests/{rid}/messages"

    broker.late = True  # the reply commits now; its event reaches this process later
    r = make.client.post(
        f"/{project.id}/requests/{rid}/messages",
        json={"text": "yes, here"},
        headers=project.owner.headers,
    )
    assert r.status_code == 200, r.text
    reply = r.json()

    with signed_in(make.client, visitor.token) as widget:
        since = {"after": first["_id"]} if cursor == "after" else {}
        ack = widget.subscribe(topic, **since)
        assert reply["_id"] in [m["_id"] for m in ack["objects"]]

        make.client.portal.call(broker.deliver_late)
        later = make.client.post(
            f"/{project.id}/requests/{rid}/messages",
            json={"text": "anything else?"},
            headers=project.owner.headers,
        ).json()
        live = widget.expect("publish")
        assert [m["_id"] for m in live["message"]] == [later["_id"]]
        widget.nothing_more()
