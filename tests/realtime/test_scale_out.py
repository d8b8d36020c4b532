"""Two real server processes sharing PostgreSQL and Redis: events cross between them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import REDIS_URL, require_service
from tests.live import free_port
from tests.realtime.live_api import Api, open_socket

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _serve(tmp_path: Path, name: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with (tmp_path / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)],
            env={**os.environ, **env, "FRONTDESK_DATA_DIR": str(tmp_path / name)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:  # wait for the port to answer, within a bound
        if process.poll() is not None:
            raise RuntimeError((tmp_path / f"{name}.log").read_text())
        try:
            if httpx.get(url + "/openapi.json", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("server did not start:\n" + (tmp_path / f"{name}.log").read_text())
        time.sleep(0.1)


@pytest.fixture
def two_servers(tmp_path: Path, pg_schema: str) -> Iterator[tuple[str, str]]:
    require_service("Redis", "127.0.0.1", 6379)
    env = {
        "FRONTDESK_DATABASE_URL": pg_schema,
        "FRONTDESK_REDIS_URL": REDIS_URL,
        "FRONTDESK_REDIS_CHANNEL": "frontdesk-test:" + uuid.uuid4().hex,
        "FRONTDESK_SECRET": "test-secret-" + "y" * 40,
        "FRONTDESK_PASSWORD_HASH_MEMORY_KIB": "1024",
        "FRONTDESK_PASSWORD_HASH_TIME_COST": "1",
        "FRONTDESK_LOG_LEVEL": "warning",
    }
    first, first_url = _serve(tmp_path, "a", env)  # migrates the schema
    try:
        second, second_url = _serve(tmp_path, "b", env)
        try:
            yield first_url, second_url
        finally:
            second.terminate()
            second.wait(timeout=10)
    finally:
        first.terminate()
        first.wait(timeout=10)


def test_events_cross_server_processes(two_servers: tuple[str, str]) -> None:
    asyncio.run(_cross(*two_servers))


async def _cross(url_a: str, url_b: str) -> None:
    async with (
        httpx.AsyncClient(base_url=url_a, timeout=10) as a,
        httpx.AsyncClient(base_url=url_b, timeout=10) as b,
    ):
        api_a, api_b = Api(a), Api(b)
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
    async with (
        httpx.AsyncClient(base_url=url_a, timeout=10) as a,
        httpx.AsyncClient(base_url=url_b, timeout=10) as b,
    ):
        api_a, api_b = Api(a), Api(b)
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
