"""What agents note stays with the agents, against running servers: the visitor's HTTP answers
and the frames on its socket carry its own view of the conversation, built by whichever
process holds the socket; each message says who sent it."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.live import live_server
from tests.realtime.live_api import Api, Session, open_socket, two_apis
from tests.realtime.test_scale_out import two_servers  # noqa: F401 (a fixture)

NOTE = "agents-only-note-9d41"


def test_agents_notes_never_reach_the_visitor(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fd.db'}")
    with live_server(settings) as server:
        asyncio.run(_notes_stay_with_agents(server.url, server.url))


@pytest.mark.postgres
@pytest.mark.redis
def test_agents_notes_never_reach_the_visitor_on_another_process(
    two_servers: tuple[str, str],  # noqa: F811
) -> None:
    asyncio.run(_notes_stay_with_agents(*two_servers))


def _assert_visitor_view(request: dict[str, Any]) -> None:
    assert NOTE not in json.dumps(request), request
    assert "tags" not in request and "tags" not in request["lead"]
    assert set(request["attributes"]) == {"cart", "senderAuthInfo"}


async def _notes_stay_with_agents(visitor_url: str, agent_url: str) -> None:
    async with two_apis(visitor_url, agent_url) as (widget_api, dashboard_api):
        owner = await dashboard_api.agent()
        pid = await dashboard_api.project(owner)
        visitor = await widget_api.visitor(pid)
        rid = f"support-group-{pid}-{uuid.uuid4().hex}"
        path = f"/{pid}/requests/{rid}"
        await widget_api.call("POST", f"{path}/messages", visitor.token,
                              json={"text": "hello", "attributes": {"cart": "3 items"}})

        async def note(tag: str) -> None:
            await dashboard_api.call("PATCH", path, owner.token, json={
                "tags": [NOTE, tag], "attributes": {"internalNote": NOTE}})

        await note("first")
        await dashboard_api.call("PUT", f"/{pid}/leads/{visitor.user_id}", owner.token, json={
            "tags": [NOTE], "attributes": {"internalNote": NOTE}, "phone": NOTE})

        seen = await widget_api.call("GET", path, visitor.token)
        _assert_visitor_view(seen)
        assert seen["lead"]["phone"] is None
        full = await widget_api.call("GET", path, owner.token)
        assert full["tags"] == [NOTE, "first"] and full["lead"]["phone"] == NOTE

        widget = await open_socket(visitor_url, visitor.token)
        dashboard = await open_socket(agent_url, owner.token)
        [snapshot] = await widget.subscribe(path)
        _assert_visitor_view(snapshot)
        await widget.subscribe(f"{path}/messages")
        await dashboard.subscribe(path)

        await note("second")
        agents_frame = await dashboard.expect("publish")
        assert agents_frame["message"][0]["tags"] == [NOTE, "second"]
        visitors_frame = await widget.expect("publish")
        assert visitors_frame["topic"] == path
        _assert_visitor_view(visitors_frame["message"][0])

        # A private note reaches the agents only: the visitor's next frame is the reply's.
        await dashboard_api.call("POST", f"{path}/notes", owner.token, json={"text": NOTE})
        agents_frame = await dashboard.expect("publish")
        assert agents_frame["message"][0]["notes"][0]["text"] == NOTE
        await _reply(dashboard_api, owner, path)
        kinds = set()
        while "agent" not in kinds:  # the reply, after the conversation's own update
            frame = await widget.expect("publish")
            for item in frame["message"]:
                if frame["topic"] == path:
                    _assert_visitor_view(item)
                    assert item["last_text"] == "on it", "the note's change reached the visitor"
                else:
                    kinds.add(item["senderKind"])
                    assert item["text"] == "on it"
        await widget.ws.close()
        await dashboard.ws.close()


async def _reply(api: Api, agent: Session, path: str) -> None:
    sent = await api.call("POST", f"{path}/messages", agent.token, json={"text": "on it"})
    assert sent["senderKind"] == "agent"
