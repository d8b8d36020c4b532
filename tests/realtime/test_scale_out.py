"""Two real server processes sharing PostgreSQL and Redis: events cross between them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.realtime.live_api import open_socket, two_apis
from tests.realtime.served import shared_env, two_served

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def two_servers(tmp_path: Path, pg_schema: str) -> Iterator[tuple[str, str]]:
    with two_served(tmp_path, shared_env(pg_schema)) as (first, second):
        yield first.url, second.url


def test_events_cross_server_processes(two_servers: tuple[str, str]) -> None:
    asyncio.run(_cross(*two_servers))


async def _cross(url_a: str, url_b: str) -> None:
    async with two_apis(url_a, url_b) as (api_a, api_b):
        owner = await api_b.agent()
        pid = await api_b.project(owner)
        dashboard = await open_socket(url_b, owner.token)  # the agent is on process B
        await dashboard.subscribe(f"/{pid}/requests")

        visitor = await api_a.visitor(pid)  # the visitor is on process A
        rid = f"support-group-{pid}-{uuid.uuid4().hex}"
        await api_a.send(visitor, pid, rid, "hello from A")
        created = await dashboard.expect("publish")
        assert [(r["request_id"], r["first_text"]) for r in created["message"]] == [
            (rid, "hello from A")
        ]

        widget = await open_socket(url_a, visitor.token)
        await widget.subscribe(f"/{pid}/requests/{rid}/messages")
        reply = await api_b.send(owner, pid, rid, "answered by B")
        live = await widget.expect("publish")
        assert [m["_id"] for m in live["message"]] == [reply["_id"]]
        assert live["message"][0]["text"] == "answered by B"

        # Signing out through B closes the visitor's socket on A at once.
        await api_b.call("POST", "/auth/logout", visitor.token)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await widget.frame(timeout=5)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "session_revoked")
        await dashboard.ws.close()


def test_removing_an_agent_through_one_process_reaches_its_socket_on_another(
    two_servers: tuple[str, str],
) -> None:
    asyncio.run(_removal_crosses(*two_servers))


async def _removal_crosses(url_a: str, url_b: str) -> None:
    async with two_apis(url_a, url_b) as (api_a, api_b):
        owner, member = await api_b.agent(), await api_a.agent()
        pid = await api_b.project(owner)
        invited = await api_b.call(
            "POST", f"/{pid}/project_users/invite", owner.token, json={"email": member.email}
        )
        joined = await api_a.call(
            "POST", "/auth/invitations/accept", member.token, json={"token": invited["token"]}
        )
        dashboard = await open_socket(url_a, member.token)  # the member is on process A
        topic = f"/{pid}/requests"
        await dashboard.subscribe(topic)

        await api_b.call(
            "DELETE", f"/{pid}/project_users/{joined['project_user']['_id']}", owner.token
        )
        error = await dashboard.expect("error")
        assert (error["code"], error["topic"]) == ("membership_revoked", topic)
        await dashboard.ws.close()
