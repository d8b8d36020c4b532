"""Losing access reaches open sockets on every server process (PostgreSQL + Redis): a merge
revert, a switch to authenticated-only visitors, and a sign-out published while a process's
Redis subscription was down."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed

from tests.conftest import REDIS_URL, sign_customer_token
from tests.realtime.live_api import Session, Socket, api_on, open_socket, two_apis
from tests.realtime.served import process_env, serving, shared_env, two_served

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Process A waits this long before resubscribing after a drop: the window the test's sign-out
# must fall in.
RESUBSCRIBE_DELAY = 3.0


@dataclass
class Servers:
    url_a: str
    pid_a: int
    url_b: str


@pytest.fixture
def servers(tmp_path: Path, pg_schema: str) -> Iterator[Servers]:
    env = shared_env(pg_schema, redis_resubscribe_delay=str(RESUBSCRIBE_DELAY))
    with two_served(tmp_path, env) as (first, second):
        yield Servers(first.url, first.pid, second.url)


async def _closed(socket: Socket, timeout: float = 10) -> tuple[int, str]:
    """(code, reason) the server closed ``socket`` with, skipping frames before it."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await socket.ws.recv()
    assert closed.value.rcvd is not None, "the server sent no close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_a_reverted_merge_reaches_the_visitors_socket_on_another_process(
    servers: Servers,
) -> None:
    asyncio.run(_merge_reverted(servers))


async def _merge_reverted(servers: Servers) -> None:
    async with two_apis(servers.url_a, servers.url_b) as (api_a, api_b):
        owner = await api_b.agent()
        pid = await api_b.project(owner)
        key = await api_b.call("POST", f"/{pid}/keys/generate", owner.token)
        anonymous = await api_a.visitor(pid)
        rid = f"support-group-{pid}-{uuid.uuid4().hex}"
        await api_a.send(anonymous, pid, rid, "before signing in")
        customer = sign_customer_token(pid, key["jwtSecret"], kid=key["kid"], _id="alice")
        signed_in = await api_a.http.post("/auth/signinWithCustomToken", headers={
            "Authorization": "JWT " + customer, "X-Frontdesk-Anonymous-Token": anonymous.token,
        })
        assert signed_in.status_code == 200, signed_in.text
        merge = signed_in.json()["merge"]
        assert merge["requests"] == [rid]
        alice = Session(signed_in.json()["token"], "alice")
        own_rid = f"support-group-{pid}-{uuid.uuid4().hex}"
        await api_a.send(alice, pid, own_rid, "my own question")

        widget = await open_socket(servers.url_a, alice.token)  # alice is on process A
        merged = f"/{pid}/requests/{rid}/messages"
        assert [m["text"] for m in await widget.subscribe(merged)] == ["before signing in"]
        await widget.subscribe(f"/{pid}/requests/{own_rid}/messages")

        await api_b.call("POST", f"/{pid}/merges/{merge['_id']}/revert", owner.token)
        error = await widget.expect("error")
        assert (error["code"], error["topic"]) == ("not_your_request", merged)

        await api_b.send(owner, pid, rid, "meant for the anonymous visitor")
        await api_b.send(owner, pid, own_rid, "meant for alice")
        live = await widget.expect("publish")
        assert [m["text"] for m in live["message"]] == ["meant for alice"]
        await widget.ws.close()


def test_requiring_authenticated_visitors_closes_anonymous_sockets_on_every_process(
    servers: Servers,
) -> None:
    asyncio.run(_policy_switched(servers))


async def _policy_switched(servers: Servers) -> None:
    async with two_apis(servers.url_a, servers.url_b) as (api_a, api_b):
        owner = await api_b.agent()
        pid = await api_b.project(owner)
        sockets = []
        for api, url in ((api_a, servers.url_a), (api_b, servers.url_b)):
            visitor = await api.visitor(pid)
            rid = f"support-group-{pid}-{uuid.uuid4().hex}"
            await api.send(visitor, pid, rid, "hello")
            socket = await open_socket(url, visitor.token)
            await socket.subscribe(f"/{pid}/requests/{rid}/messages")
            sockets.append(socket)
        dashboard = await open_socket(servers.url_a, owner.token)
        await dashboard.subscribe(f"/{pid}/requests")

        await api_b.call("PUT", f"/projects/{pid}", owner.token,
                         json={"settings": {"allow_anonymous": False}})
        for socket in sockets:
            assert await _closed(socket) == (4403, "anonymous_not_allowed")
        # The agent's socket is untouched: it still subscribes and sees both conversations.
        assert len(await dashboard.subscribe(f"/{pid}/requests")) == 2
        await dashboard.ws.close()


def _pubsub_connections(client: redis.Redis, pid: int) -> list[dict[str, str]]:
    """Process ``pid``'s Redis subscription connections (they carry its name)."""
    return [c for c in client.client_list(_type="pubsub") if c["name"] == f"frontdesk-{pid}"]


def test_a_sign_out_missed_while_redis_was_down_closes_the_socket_after_resubscribing(
    servers: Servers,
) -> None:
    asyncio.run(_missed_sign_out(servers))


async def _missed_sign_out(servers: Servers) -> None:
    async with api_on(servers.url_b, timeout=10) as api_b:
        chat = await api_b.conversation("hello")
        widget = await open_socket(servers.url_a, chat.visitor.token)  # on process A
        await widget.subscribe(chat.messages_topic)

        admin = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            (subscription,) = _pubsub_connections(admin, servers.pid_a)
            admin.client_kill_filter(_id=subscription["id"])
            deadline = time.monotonic() + 5
            while _pubsub_connections(admin, servers.pid_a):  # A has noticed the drop
                assert time.monotonic() < deadline, "A kept its Redis subscription"
                await asyncio.sleep(0.02)

            started = time.monotonic()
            await api_b.call("POST", "/auth/logout", chat.visitor.token)
            # The sign-out was published while A was not subscribed: A never hears it.
            assert not _pubsub_connections(admin, servers.pid_a)
            assert time.monotonic() - started < RESUBSCRIBE_DELAY

            assert await _closed(widget, timeout=RESUBSCRIBE_DELAY + 15) == (
                4401, "session_revoked"
            )
            assert _pubsub_connections(admin, servers.pid_a), "A did not resubscribe"
        finally:
            admin.close()


def test_two_workers_over_redis_share_sign_outs(tmp_path: Path, pg_schema: str) -> None:
    """``serve --workers 2`` is allowed with Redis, and then a sign-out made on either worker
    closes sockets and refuses REST calls on both at once, session cache or not."""
    env = process_env({
        "FRONTDESK_DATA_DIR": str(tmp_path / "data"),
        **shared_env(pg_schema, signin_rate_per_ip="0"),
    })
    with serving(env, tmp_path / "workers.log", "--workers", "2", start_new_session=True) as server:
        asyncio.run(_workers_share_sign_outs(server.url))


async def _workers_share_sign_outs(url: str) -> None:
    async with api_on(url, timeout=10) as api:
        owner = await api.agent()
        pid = await api.project(owner)
        for _ in range(6):  # new connections each, accepted by either worker
            visitor = await api.visitor(pid)
            socket = await open_socket(url, visitor.token)
            headers = {"Authorization": visitor.token}
            for _ in range(4):  # fill the session caches of the workers these calls reach
                async with httpx.AsyncClient(base_url=url, timeout=10) as fresh:
                    r = await fresh.get(f"/{pid}/requests/me", headers=headers)
                    assert r.status_code == 200, r.text
            await api.call("POST", "/auth/logout", visitor.token)
            assert await _closed(socket) == (4401, "session_revoked")
            for _ in range(4):
                async with httpx.AsyncClient(base_url=url, timeout=10) as fresh:
                    r = await fresh.get(f"/{pid}/requests/me", headers=headers)
                    assert (r.status_code, r.json()["code"]) == (401, "session_revoked")
