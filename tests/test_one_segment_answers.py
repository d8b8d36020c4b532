"""An HTTP answer's status line and headers leave with its body, in one write."""

from __future__ import annotations

import asyncio
from typing import Any

from frontdesk.server import _OneSegmentAnswer


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 7


class _Cycle:
    def __init__(self, transport: _Transport) -> None:
        self.transport: Any = transport
        self.response_started = False
        self.response_complete = False


def _answer() -> tuple[_Transport, _Cycle, _OneSegmentAnswer]:
    transport = _Transport()
    cycle = _Cycle(transport)
    return transport, cycle, _OneSegmentAnswer(cycle)


def test_the_headers_wait_for_the_body_and_leave_with_it() -> None:
    asyncio.run(_headers_wait_for_the_body())


async def _headers_wait_for_the_body() -> None:
    transport, cycle, answer = _answer()
    answer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the answer starts: at once
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.response_started = True
    answer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert len(transport.writes) == 1
    answer.write(b"{}")
    assert transport.writes[1:] == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    answer.write(b"more")  # later writes go as they come
    assert transport.writes[2:] == [b"more"]
    await asyncio.sleep(0)  # the turn's flush finds nothing held
    assert len(transport.writes) == 3


def test_held_headers_leave_at_the_end_of_the_turn_without_a_body() -> None:
    asyncio.run(_held_headers_leave())


async def _held_headers_leave() -> None:
    transport, cycle, answer = _answer()
    cycle.response_started = True
    answer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    assert transport.writes == []
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"]


def test_closing_sends_what_is_held_first() -> None:
    asyncio.run(_closing_sends_held())


async def _closing_sends_held() -> None:
    transport, cycle, answer = _answer()
    cycle.response_started = True
    answer.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
    answer.close()
    assert transport.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"]
    assert transport.closed
    assert answer.get_write_buffer_size() == 7  # the rest is the connection's transport's


class _Connection(_Transport):
    """What the HTTP protocol writes to, as asyncio hands it a socket's transport."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def set_protocol(self, protocol: Any) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def test_the_served_protocol_answers_each_request_in_one_write() -> None:
    asyncio.run(_served_answers())


async def _served_answers() -> None:
    """The wiring, not only the class: the guarded protocol, fed requests as a socket would,
    writes each answer (status line, headers, body) to the connection in one call."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from frontdesk.server import GuardedHttpProtocol

    async def app(scope: Any, receive: Any, send: Any) -> None:  # as a JSON Response sends
        body = b'{"path": "' + scope["path"].encode() + b'"}'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    config = Config(app, http=GuardedHttpProtocol, lifespan="off", log_config=None,
                    access_log=False)
    config.load()
    protocol = GuardedHttpProtocol(config, ServerState(), {})
    connection = _Connection()
    protocol.connection_made(connection)  # type: ignore[arg-type]
    for path in ("/first", "/second"):
        before = len(connection.writes)
        protocol.data_received(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        for _ in range(20):
            await asyncio.sleep(0)
            if protocol.cycle is not None and protocol.cycle.response_complete:
                break
        [answer] = connection.writes[before:]
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
        assert answer.endswith(b'\r\n\r\n{"path": "' + path.encode() + b'"}')
    protocol.connection_lost(None)
