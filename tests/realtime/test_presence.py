"""Presence over real sockets: an agent whose last dashboard connection closes becomes
unavailable after the grace period, and available again on return — unless it had made
itself unavailable. With several processes, "last" is counted across them in Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from frontdesk.realtime.presence import LocalSocketCounts, Presence
from tests.conftest import make_settings
from tests.live import live_server
from tests.realtime.live_api import Api, Session, api_on, open_socket, two_apis
from tests.realtime.served import shared_env, two_served

GRACE = 0.6


async def _member(api: Api, agent: Session, pid: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = await api.call(
        "GET", f"/{pid}/project_users/users/{agent.user_id}", agent.token
    )
    return body[0]


async def _available(api: Api, agent: Session, pid: str) -> bool:
    return bool((await _member(api, agent, pid))["user_available"])


async def _becomes(api: Api, agent: Session, pid: str, wanted: bool, within: float) -> None:
    deadline = time.monotonic() + within
    while await _available(api, agent, pid) != wanted:
        assert time.monotonic() < deadline, f"user_available did not become {wanted}"
        await asyncio.sleep(0.05)


async def _audit_types(api: Api, owner: Session, pid: str) -> list[str]:
    page = await api.call("GET", f"/{pid}/audit", owner.token, params={"subject": owner.user_id})
    return [e["type"] for e in page["events"] if e["type"].startswith("presence.")]


def test_presence_on_one_process(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, presence_grace_seconds=GRACE)
    with live_server(settings) as server:
        asyncio.run(_one_process(server.url))


async def _one_process(url: str) -> None:
    async with api_on(url) as api:
        owner = await api.agent()
        pid = await api.project(owner)
        first = await open_socket(url, owner.token)
        second = await open_socket(url, owner.token)
        await first.ws.close()
        await asyncio.sleep(GRACE * 2)
        assert await _available(api, owner, pid)  # another socket is still open
        await second.ws.close()
        await _becomes(api, owner, pid, False, within=GRACE + 3)
        assert await _audit_types(api, owner, pid) == ["presence.away"]

        # While it is away, a visitor's conversation waits; its return takes it.
        visitor = await api.visitor(pid)
        rid = f"support-group-{pid}-{uuid.uuid4().hex}"
        await api.send(visitor, pid, rid, "anyone there?")
        assert (await api.call("GET", f"/{pid}/requests/{rid}", owner.token))["status"] == 100
        back = await open_socket(url, owner.token)
        await _becomes(api, owner, pid, True, within=3)
        # The queue is routed in its own transaction, just after the return commits.
        deadline = time.monotonic() + 3
        request = await api.call("GET", f"/{pid}/requests/{rid}", owner.token)
        while request["status"] == 100 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            request = await api.call("GET", f"/{pid}/requests/{rid}", owner.token)
        assert (request["status"], request["participants"]) == (200, [owner.user_id])
        assert await _audit_types(api, owner, pid) == ["presence.back", "presence.away"]

        # A quick reload (close and reopen within the grace period) changes nothing.
        await back.ws.close()
        back = await open_socket(url, owner.token)
        await asyncio.sleep(GRACE * 2)
        assert await _available(api, owner, pid)

        # An agent who made itself unavailable stays so after it leaves and returns.
        await api.call("PUT", f"/{pid}/project_users", owner.token,
                       json={"user_available": False})
        await back.ws.close()
        await asyncio.sleep(GRACE * 2)
        again = await open_socket(url, owner.token)
        await asyncio.sleep(0.3)
        assert not await _available(api, owner, pid)
        assert len(await _audit_types(api, owner, pid)) == 2
        await again.ws.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_the_last_connection_is_counted_across_processes(tmp_path: Path, pg_schema: str) -> None:
    env = shared_env(pg_schema, presence_grace_seconds=str(GRACE))
    with two_served(tmp_path, env) as (first, second):
        asyncio.run(_two_processes(first.url, second.url))


async def _two_processes(url_a: str, url_b: str) -> None:
    async with two_apis(url_a, url_b) as (api_a, api_b):
        owner = await api_a.agent()
        pid = await api_a.project(owner)
        on_a = await open_socket(url_a, owner.token)
        on_b = await open_socket(url_b, owner.token)
        await on_a.ws.close()
        await asyncio.sleep(GRACE * 3)
        assert await _available(api_b, owner, pid)  # its socket on B still counts
        await on_b.ws.close()
        await _becomes(api_a, owner, pid, False, within=GRACE + 3)
        back = await open_socket(url_a, owner.token)
        await _becomes(api_b, owner, pid, True, within=3)
        await back.ws.close()


def test_presence_waits_out_the_grace_and_counts_every_socket() -> None:
    asyncio.run(_grace_and_counts())


async def _grace_and_counts() -> None:
    calls: list[tuple[str, str]] = []

    async def away(user_id: str) -> None:
        calls.append(("away", user_id))

    async def back(user_id: str) -> None:
        calls.append(("back", user_id))

    presence = Presence(LocalSocketCounts(), grace=0.1, on_away=away, on_back=back)
    first, second = object(), object()
    await presence.connected("ada", first)
    await presence.connected("ada", second)
    await presence.disconnected(first)
    await asyncio.sleep(0.25)
    assert calls == [("back", "ada"), ("back", "ada")]  # one socket is still open
    await presence.disconnected(second)
    await presence.disconnected(second)  # twice changes nothing
    await asyncio.sleep(0.25)
    assert calls[2:] == [("away", "ada")]
    # Back within the grace period: nothing happens when it ends.
    third, fourth = object(), object()
    await presence.connected("ada", third)
    await presence.disconnected(third)
    await presence.connected("ada", fourth)
    await asyncio.sleep(0.25)
    assert calls[3:] == [("back", "ada"), ("back", "ada")]
    # A stopping process marks nobody away.
    await presence.close()
    await presence.disconnected(fourth)
    await asyncio.sleep(0.25)
    assert calls[3:] == [("back", "ada"), ("back", "ada")]
