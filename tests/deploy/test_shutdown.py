"""Stopping a real ``frontdesk serve`` process with SIGTERM: what it had accepted is answered,
its WebSockets are told to go elsewhere (1001)."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.served import served


def _answer(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_request_on_a_connection_accepted_before_sigterm_is_answered(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port)) as sock:
            time.sleep(0.2)  # the server has accepted the connection; nothing sent yet
            server.process.send_signal(signal.SIGTERM)
            # The process is stopping: it soon listens no more.
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection((address.hostname, address.port), timeout=2).close()
                except ConnectionRefusedError:
                    break
                assert time.monotonic() < deadline, "still accepting after SIGTERM"
                time.sleep(0.05)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: frontdesk\r\n\r\n")
            answer = _answer(sock)
        head = answer.split(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 200"), answer
        assert b"connection: close" in head
        # uvicorn re-raises the signal once stopped, as systemd expects of a clean stop
        assert server.process.wait(timeout=10) in (0, -signal.SIGTERM)


def test_sigterm_closes_websockets_with_going_away(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        asyncio.run(_going_away(server.url, server.process.send_signal))


async def _going_away(url: str, send_signal: object) -> None:
    assert callable(send_signal)
    async with connect(url.replace("http://", "ws://") + "/ws") as ws:
        send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    await ws.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1001, "server_shutdown")
