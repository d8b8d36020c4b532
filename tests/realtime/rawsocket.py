"""A WebSocket client on a plain socket, for clients that stop reading."""

from __future__ import annotations

import json
import socket
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.realtime.live_api import socket_url


class RawSocket:
    """A WebSocket client on a plain socket with a tiny receive buffer that it stops reading."""

    def __init__(self, url: str, token: str) -> None:
        self.protocol = ClientProtocol(parse_uri(socket_url(url, token)))
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

    def close(self) -> None:
        """Drop the connection without a close handshake."""
        self.sock.close()
