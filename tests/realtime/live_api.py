"""Async helpers for tests over real sockets: the REST calls a dashboard and a widget make,
and a WebSocket client that reads frames with a bounded wait."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 10.0


@dataclass
class Session:
    token: str
    user_id: str
    email: str = ""


@dataclass
class Conversation:
    owner: Session
    project_id: str
    visitor: Session
    request_id: str

    @property
    def request_path(self) -> str:
        return f"/{self.project_id}/requests/{self.request_id}"

    @property
    def messages_topic(self) -> str:
        return self.request_path + "/messages"


class Api:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": token} if token else {}
        r = await self.http.request(method, path, headers=headers, **kw)
        assert r.status_code == 200, r.text
        return r.json()

    async def agent(self) -> Session:
        email = f"agent-{uuid.uuid4().hex[:8]}@example.com"
        creds = {"email": email, "password": "correct horse 1"}
        await self.call("POST", "/auth/signup", json={**creds, "firstname": "Ada"})
        body = await self.call("POST", "/auth/signin", json=creds)
        return Session(body["token"], body["user"]["_id"], email)

    async def project(self, owner: Session) -> str:
        body = await self.call("POST", "/projects", owner.token, json={"name": "Acme"})
        return str(body["_id"])

    async def visitor(self, project_id: str) -> Session:
        body = await self.call("POST", "/auth/signinAnonymously", json={"id_project": project_id})
        return Session(body["token"], body["user"]["_id"])

    async def conversation(self, first_text: str) -> Conversation:
        """A new agent, its project, and an anonymous visitor's conversation opened there."""
        owner = await self.agent()
        project_id = await self.project(owner)
        visitor = await self.visitor(project_id)
        rid = f"support-group-{project_id}-{uuid.uuid4().hex}"
        await self.send(visitor, project_id, rid, first_text)
        return Conversation(owner, project_id, visitor, rid)

    async def send(self, session: Session, project_id: str, rid: str, text: str) -> Any:
        path = f"/{project_id}/requests/{rid}/messages"
        return await self.call("POST", path, session.token, json={"text": text})


@asynccontextmanager
async def api_on(url: str, timeout: float = TIMEOUT) -> AsyncIterator[Api]:
    """An Api on the server at ``url``, its client closed with the block."""
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as http:
        yield Api(http)


@asynccontextmanager
async def two_apis(url_a: str, url_b: str) -> AsyncIterator[tuple[Api, Api]]:
    """An Api on each of two servers, their clients closed with the block."""
    async with (
        httpx.AsyncClient(base_url=url_a, timeout=TIMEOUT) as a,
        httpx.AsyncClient(base_url=url_b, timeout=TIMEOUT) as b,
    ):
        yield Api(a), Api(b)


class Socket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def frame(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next frame other than a server heartbeat."""
        while True:
            async with asyncio.timeout(timeout):
                raw = await self.ws.recv()
            frame: dict[str, Any] = json.loads(raw)
            if frame["action"] != "heartbeat":
                return frame

    async def expect(self, action: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = await self.frame(timeout)
        assert frame["action"] == action, frame
        payload: dict[str, Any] = frame["payload"]
        return payload

    async def send(self, action: str, **payload: Any) -> None:
        await self.ws.send(json.dumps({"action": action, "payload": payload}))

    async def subscribe(self, topic: str, **cursor: Any) -> list[dict[str, Any]]:
        """Subscribe; the objects of the snapshot (or replay) that comes before the ack."""
        await self.send("subscribe", topic=topic, **cursor)
        frame = await self.frame()
        objects: list[dict[str, Any]] = []
        if frame["action"] == "publish":
            objects = frame["payload"]["message"]
            frame = await self.frame()
        assert frame["action"] == "subscribed", frame
        return objects


def socket_url(base_url: str, token: str) -> str:
    """The /ws URL of the server at ``base_url`` (ws:// or wss://), ``token`` in its query."""
    return base_url.replace("http", "ws", 1) + "/ws?token=" + quote(token)


async def open_socket(base_url: str, token: str) -> Socket:
    ws = await connect(socket_url(base_url, token), open_timeout=TIMEOUT)
    socket = Socket(ws)
    await socket.expect("authenticated")
    return socket
