"""deploy/nginx.conf in front of two frontdesk processes on PostgreSQL and Redis, used only
through the proxy: TLS, WebSockets, the client's address, limits across processes, and a
process stopped while visitors are connected."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.deploy.stack import Stack, deployment
from tests.realtime.live_api import Api, Session, Socket, socket_url

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def open_socket(stack: Stack, token: str, source: str = "127.0.0.1") -> Socket:
    """A wss:// socket through the proxy, signed in with ``token``."""
    ws = await connect(
        socket_url(stack.url, token), ssl=stack.ssl_context,
        local_addr=(source, 0), open_timeout=10,
    )
    socket = Socket(ws)
    await socket.expect("authenticated")
    return socket


def test_visitors_sign_in_write_and_hear_replies_through_the_proxy(
    tmp_path: Path, pg_schema: str
) -> None:
    with deployment(tmp_path, pg_schema) as stack:
        asyncio.run(_conversation(stack))
        plain = httpx.get(stack.http_url + "/health", follow_redirects=False)
        assert plain.status_code == 308
        assert plain.headers["location"].startswith("https://")
        log = (stack.log_dir / "frontdesk.access.log").read_text()
    # Round-robin: both processes served; no WebSocket token reached the proxy's log.
    for process in stack.processes:
        assert f"upstream=127.0.0.1:{process.port}" in log
    assert "token=" not in log and "sig=" not in log


async def _conversation(stack: Stack) -> None:
    async with stack.client() as http:
        api = Api(http)
        owner = await api.agent()
        pid = await api.project(owner)
        dashboard = await open_socket(stack, owner.token)
        await dashboard.subscribe(f"/{pid}/requests")

        widgets: list[tuple[Session, str, Socket]] = []
        for n in range(4):  # each request may reach either process
            visitor = await api.visitor(pid)
            rid = f"support-group-{pid}-{uuid.uuid4().hex}"
            await api.send(visitor, pid, rid, f"hello {n}")
            await _hear_request(dashboard, rid)
            widget = await open_socket(stack, visitor.token)
            history = await widget.subscribe(f"/{pid}/requests/{rid}/messages")
            assert [m["text"] for m in history] == [f"hello {n}"]
            widgets.append((visitor, rid, widget))

        for n, (_, rid, widget) in enumerate(widgets):
            reply = await api.send(owner, pid, rid, f"answer {n}")
            live = await widget.expect("publish")
            assert [(m["_id"], m["text"]) for m in live["message"]] == [
                (reply["_id"], f"answer {n}")
            ]
        answered = await http.get("/health")
        assert answered.headers["strict-transport-security"].startswith("max-age=")
        await _file_through_the_proxy(http, pid, owner, widgets[0][0])
        for _, _, widget in widgets:
            await widget.ws.close()
        await dashboard.ws.close()


async def _file_through_the_proxy(
    http: httpx.AsyncClient, pid: str, owner: Session, visitor: Session
) -> None:
    """An upload larger than the proxy's body limit elsewhere, read back by signed URL."""
    big = b"a line of a long log\n" * 100_000  # 2 MB
    uploaded = await http.post(f"/{pid}/files/chat", headers={"Authorization": visitor.token},
                               files={"file": ("big.log", big, "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    view = await http.get(f"/{pid}/files/{uploaded.json()['_id']}",
                          headers={"Authorization": owner.token})
    url = urlsplit(view.json()["url"])
    got = await http.get(f"{url.path}?{url.query}")
    assert got.status_code == 200 and got.content == big


async def _hear_request(dashboard: Socket, rid: str) -> None:
    """Read the dashboard's request changes until one about ``rid`` (each frame within the
    socket's timeout), whichever process the request went to."""
    while True:
        changed = await dashboard.expect("publish")
        if rid in {r["request_id"] for r in changed["message"]}:
            return


def test_the_per_address_limit_holds_across_processes_behind_the_proxy(
    tmp_path: Path, pg_schema: str
) -> None:
    with deployment(tmp_path, pg_schema, signin_rate_per_ip="5") as stack:
        asyncio.run(_per_address_limit(stack))
        log = (stack.log_dir / "frontdesk.access.log").read_text().splitlines()
    refused_by = {
        field.removeprefix("upstream=") for line in log
        if "/auth/signinAnonymously" in line and '" 429 ' in line
        for field in line.split() if field.startswith("upstream=")
    }
    assert refused_by == {f"127.0.0.1:{p.port}" for p in stack.processes}


async def _per_address_limit(stack: Stack) -> None:
    async with (
        stack.client("127.0.0.2") as crowded,
        stack.client("127.0.0.3") as neighbour,
        stack.client() as setup,
    ):
        pid = await Api(setup).project(await Api(setup).agent())
        body = {"id_project": pid}

        async def sign_in(http: httpx.AsyncClient, **headers: str) -> int:
            r = await http.post("/auth/signinAnonymously", json=body, headers=headers)
            return r.status_code

        # Round-robin sends these to both processes in turn: five from one address pass.
        assert [await sign_in(crowded) for _ in range(5)] == [200] * 5
        # The sixth and later are refused, whichever process serves them, and a forwarded
        # address the client made up does not get it past the limit.
        assert [await sign_in(crowded) for _ in range(2)] == [429, 429]
        assert await sign_in(crowded, **{"X-Forwarded-For": "203.0.113.9"}) == 429
        assert await sign_in(crowded, Forwarded="for=203.0.113.10") == 429
        # Visitors from another address are not affected.
        assert [await sign_in(neighbour) for _ in range(3)] == [200] * 3


@dataclasses.dataclass
class Widget:
    """A visitor's widget that reconnects and resumes after the last message it received."""

    stack: Stack
    token: str
    topic: str
    received: list[str] = dataclasses.field(default_factory=list)
    closes: list[int] = dataclasses.field(default_factory=list)
    subscribed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    stopped: bool = False

    async def run(self) -> None:
        while not self.stopped:
            try:
                socket = await open_socket(self.stack, self.token)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                await asyncio.sleep(0.2)  # the widget's back-off
                continue
            try:
                await self._listen(socket)
            except ConnectionClosed as closed:
                self.closes.append(closed.rcvd.code if closed.rcvd else 1006)
            finally:
                await socket.ws.close()

    async def _listen(self, socket: Socket) -> None:
        cursor = {"after": self.received[-1]} if self.received else {}
        await socket.send("subscribe", topic=self.topic, **cursor)
        while not self.stopped:
            try:
                raw = await asyncio.wait_for(socket.ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            frame: dict[str, Any] = json.loads(raw)
            payload = frame["payload"]
            if frame["action"] == "publish" and payload["topic"] == self.topic:
                self.received += [m["_id"] for m in payload["message"]]
            elif frame["action"] == "subscribed":
                self.subscribed.set()
            elif frame["action"] == "error":
                raise AssertionError(payload)


def test_stopping_one_process_under_50_visitors_loses_and_repeats_no_reply(
    tmp_path: Path, pg_schema: str
) -> None:
    unlimited = {name: "0" for name in (
        "signin_rate_per_ip", "signin_rate_per_project", "message_rate_per_ip",
        "message_rate_per_project",
    )}
    with deployment(tmp_path, pg_schema, **unlimited) as stack:
        asyncio.run(_restart_under_visitors(stack, visitors=50))


async def _restart_under_visitors(stack: Stack, visitors: int) -> None:
    async with stack.client() as http:
        api = Api(http)
        owner = await api.agent()
        pid = await api.project(owner)
        widgets: list[Widget] = []
        for _ in range(visitors):
            visitor = await api.visitor(pid)
            rid = f"support-group-{pid}-{uuid.uuid4().hex}"
            await api.send(visitor, pid, rid, "hello")
            widgets.append(Widget(stack, visitor.token, f"/{pid}/requests/{rid}/messages"))
        tasks = [asyncio.create_task(w.run()) for w in widgets]
        async with asyncio.timeout(60):
            await asyncio.gather(*(w.subscribed.wait() for w in widgets))

        answered: dict[str, list[str]] = {w.topic: [] for w in widgets}
        failures: list[str] = []
        posting = True

        async def reply_continuously() -> None:
            n = 0
            while posting:
                widget = widgets[n % len(widgets)]
                n += 1
                r = await http.post(
                    widget.topic,
                    json={"text": f"reply {n}"}, headers={"Authorization": owner.token},
                )
                if r.status_code == 200:
                    answered[widget.topic].append(r.json()["_id"])
                else:
                    failures.append(f"{r.status_code} {r.text}")

        async def replies(more: int) -> None:
            """Wait until ``more`` replies more are answered (or posting failed)."""
            target = sum(len(ids) for ids in answered.values()) + more
            async with asyncio.timeout(60):
                while sum(len(ids) for ids in answered.values()) < target and not failures:
                    await asyncio.sleep(0.05)

        replying = asyncio.create_task(reply_continuously())
        await replies(visitors)
        stopped = stack.processes[0]
        # SIGTERM while replies are being posted; they go on while only the other serves.
        exit_status = await asyncio.to_thread(stopped.terminate)
        await replies(visitors)
        await asyncio.to_thread(stopped.start)  # back, as a restart brings it
        await replies(visitors)
        posting = False
        await replying

        async with asyncio.timeout(30):  # every widget catches up with what was answered
            while any(
                not set(answered[w.topic]) <= set(w.received) for w in widgets
            ):
                await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # a repeat, were there one, would come now
        for widget in widgets:
            widget.stopped = True
        await asyncio.gather(*tasks)

    assert exit_status in (0, -signal.SIGTERM)
    assert failures == []
    moved = [w for w in widgets if 1001 in w.closes]
    assert moved, "no widget was on the stopped process"
    for widget in widgets:
        replies = answered[widget.topic]
        repeated = {mid: n for mid, n in Counter(widget.received).items() if n > 1}
        assert repeated == {}, f"{widget.topic} got some twice"
        assert [m for m in widget.received if m in set(replies)] == replies
