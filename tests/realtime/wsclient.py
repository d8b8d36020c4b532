"""A bounded-wait wrapper over Starlette's in-process WebSocket session.

The TestClient's ``receive`` waits forever; these helpers wait at most ``timeout`` seconds, so
a frame that never comes fails the test instead of hanging it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

TIMEOUT = 5.0


class Socket:
    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session

    def frame(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next frame other than a server heartbeat; WebSocketDisconnect if it closed."""
        while True:
            message = self._receive(timeout)
            if message["type"] == "websocket.close":
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason", ""))
            frame: dict[str, Any] = json.loads(message["text"])
            if frame["action"] != "heartbeat":
                return frame

    def expect(self, action: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = self.frame(timeout)
        assert frame["action"] == action, frame
        payload: dict[str, Any] = frame["payload"]
        return payload

    def closed(self, timeout: float = TIMEOUT) -> tuple[int, str]:
        """(code, reason) of the close that comes next, skipping frames before it."""
        while True:
            message = self._receive(timeout)
            if message["type"] == "websocket.close":
                return message.get("code", 1000), message.get("reason", "")

    def nothing_more(self, timeout: float = 0.3) -> None:
        """No frame arrives within ``timeout`` (for what must not be delivered)."""
        try:
            frame = self.frame(timeout)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame}")

    def send(self, action: str, **payload: Any) -> None:
        self.session.send_text(json.dumps({"action": action, "payload": payload}))

    def subscribe(self, topic: str, **cursor: Any) -> dict[str, Any]:
        """Subscribe; the ``subscribed`` acknowledgement, with the snapshot under ``objects``."""
        self.send("subscribe", topic=topic, **cursor)
        frame = self.frame()
        objects: list[dict[str, Any]] = []
        if frame["action"] == "publish":
            assert frame["payload"]["topic"] == topic, frame
            objects = frame["payload"]["message"]
            frame = self.frame()
        assert frame["action"] == "subscribed", frame
        ack: dict[str, Any] = frame["payload"]
        assert ack["replayed"] == len(objects)
        return {**ack, "objects": objects}

    def _receive(self, timeout: float) -> dict[str, Any]:
        async def receive() -> dict[str, Any]:
            with anyio.fail_after(timeout):
                message: dict[str, Any] = await self.session._send_rx.receive()
                return message

        result: dict[str, Any] = self.session.portal.call(receive)
        return result


@contextmanager
def connect(client: TestClient, token: str | None = None) -> Iterator[Socket]:
    """A socket to /ws, authenticated by query string when ``token`` is given."""
    path = "/ws" if token is None else "/ws?token=" + token.replace(" ", "%20")
    with client.websocket_connect(path) as session:
        yield Socket(session)


@contextmanager
def signed_in(client: TestClient, token: str) -> Iterator[Socket]:
    with connect(client, token) as socket:
        socket.expect("authenticated")
        yield socket
