"""/ws over real sockets: resume after a dropped connection, a client that stops reading."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.conftest import make_settings
from tests.live import live_server
from tests.realtime.live_api import Api, open_socket


def test_a_visitor_that_drops_its_socket_misses_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fd.db'}")
    with live_server(settings) as server:
        asyncio.run(_drop_and_resume(server.url))


async def _drop_and_resume(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        api = Api(http)
        chat = await api.conversation("0")
        owner, pid, visitor, rid = chat.owner, chat.project_id, chat.visitor, chat.request_id
        topic = chat.messages_topic
        widget = await open_socket(url, visitor.token)
        received = [m["text"] for m in await widget.subscribe(topic)]
        last_id: str | None = None
        posted, wanted, written_while_away = 0, 31, asyncio.Event()

        async def agent_replies() -> None:
            nonlocal posted
            for n in range(1, 31):
                await api.send(owner, pid, rid, str(n))
                posted += 1
                if posted >= wanted:
                    written_while_away.set()

        replies = asyncio.create_task(agent_replies())
        while len(received) < 8:  # some live messages, then the network goes
            for message in (await widget.expect("publish"))["message"]:
                received.append(message["text"])
                last_id = message["_id"]
        assert widget.ws.transport is not None
        widget.ws.transport.abort()  # no close handshake: as a dropped connection looks

        wanted = min(posted + 3, 30)  # the agent writes at least 3 while nobody listens
        if posted >= wanted:
            written_while_away.set()
        await asyncio.wait_for(written_while_away.wait(), 10)
        widget = await open_socket(url, visitor.token)
        received += [m["text"] for m in await widget.subscribe(topic, after=last_id)]
        while len(received) < 31:
            received += [m["text"] for m in (await widget.expect("publish"))["message"]]
        await replies
        assert received == [str(n) for n in range(31)]  # every message, once, in order
        await widget.ws.close()


def test_a_client_that_stops_reading_holds_up_nobody(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fd.db'}", ws_send_queue=8)
    with live_server(settings) as server:
        asyncio.run(_stalled_reader(server.url))


async def _stalled_reader(url: str) -> None:
    # Enough to overflow what the kernels buffer on loopback (4 MiB) behind a stalled reader.
    posts = 250
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        api = Api(http)
        chat = await api.conversation("help")
        owner, pid, visitor, rid = chat.owner, chat.project_id, chat.visitor, chat.request_id
        topic = chat.messages_topic

        stalled = _RawSocket(url, owner.token)
        stalled.send({"action": "subscribe", "payload": {"topic": topic}})
        for other in (f"/{pid}/requests", f"/{pid}/requests/{rid}"):
            stalled.send({"action": "subscribe", "payload": {"topic": other}})
        widget = await open_socket(url, visitor.token)
        await widget.subscribe(topic)

        text = "x" * 8000
        for n in range(posts):
            started = time.monotonic()
            sent = await api.send(owner, pid, rid, f"{n} {text}")
            live = (await widget.expect("publish", timeout=2))["message"]
            assert [m["_id"] for m in live] == [sent["_id"]]
            assert time.monotonic() - started < 2
        await widget.ws.close()

    frames, close = stalled.drain()
    assert close == (4409, "slow_consumer")
    assert frames < 3 * posts  # it was cut off, not fed without bound


class _RawSocket:
    """A WebSocket client on a plain socket with a tiny receive buffer that it stops reading."""

    def __init__(self, url: str, token: str) -> None:
        ws_url = url.replace("http://", "ws://") + "/ws?token=" + token.replace(" ", "%20")
        self.protocol = ClientProtocol(parse_uri(ws_url))
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        host, port = url.removeprefix("http://").split(":")
        self.sock.connect((host, int(port)))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while not any(isinstance(e, Response) for e in self._read()):
            pass

    def send(self, frame: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(frame).encode())
        self._flush()

    def drain(self) -> tuple[int, tuple[int, str] | None]:
        """Read everything now: (text frames received, (code, reason) of the close)."""
        texts = 0
        while self.protocol.close_rcvd is None:
            events = self._read()
            texts += sum(1 for e in events if getattr(e, "opcode", None) == Opcode.TEXT)
            if not events and self.protocol.close_rcvd is None and self._eof:
                return texts, None
        close = self.protocol.close_rcvd
        self.sock.close()
        return texts, (close.code, close.reason)

    _eof = False

    def _read(self) -> list[Any]:
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self._eof = True
            self.protocol.receive_eof()
        return list(self.protocol.events_received())

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            self.sock.sendall(chunk)
