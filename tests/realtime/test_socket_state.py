"""What an idle socket keeps while it is open: a server holds thousands of them, so each one
holds no empty containers, no finished task, no chain of framework layers and no compression
state between messages."""

from __future__ import annotations

import asyncio
import gc
import json
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

from frontdesk.realtime.connection import Connection
from tests.conftest import Factory
from tests.realtime.live_api import Socket, api_on, socket_url
from tests.realtime.served import served
from tests.realtime.wsclient import signed_in


class _ReadingWebSocket:
    """A peer that reads every frame at once."""

    def __init__(self) -> None:
        self.written: list[str] = []

    async def send_text(self, text: str) -> None:
        self.written.append(text)

    async def close(self, code: int, reason: str) -> None:
        pass


def _connection(ws: _ReadingWebSocket) -> Connection:
    socket: Any = ws
    return Connection(socket, queue_limit=10, queue_bytes=10_000, budget_key="socket:test",
                      now=0.0, on_close=lambda conn: None)


def _containers_and_tasks(conn: Connection) -> list[object]:
    """The containers and tasks ``conn`` refers to (its websocket and principal aside)."""
    kinds = (set, frozenset, dict, list, deque, asyncio.Task)
    return [
        o for o in gc.get_referents(conn)
        if isinstance(o, kinds) and o is not conn.websocket and o is not conn.principal
    ]


def test_an_idle_connection_holds_no_containers_and_no_task() -> None:
    asyncio.run(_idle_connection())


async def _idle_connection() -> None:
    ws = _ReadingWebSocket()
    conn = _connection(ws)
    assert not hasattr(conn, "__dict__")  # slots: no per-socket attribute dict
    assert conn.topics == set() and conn.holding() == []
    assert _containers_and_tasks(conn) == []

    # A subscription's life: listened to, its live frames held during the replay, the ids the
    # replay sent remembered, an agent's removal counted; then unsubscribed.
    assert conn.add_topic("/p/requests/r/messages") is True
    assert conn.add_topic("/p/requests/r/messages") is False
    conn.hold("/p/requests/r/messages")
    conn.hold_or_send("/p/requests/r/messages", "live", "m2")
    assert conn.release_held("/p/requests/r/messages") == [("live", "m2")]
    conn.remember_replayed("/p/requests/r/messages", {"m1"})
    conn.count_revocation("p")
    assert conn.revocations("p") == 1 and conn.topics == {"/p/requests/r/messages"}
    conn.discard_topic("/p/requests/r/messages")
    assert conn.topics == set()
    conn.hold_or_send("/p/requests/r/messages", "m1 again", "m1")  # forgotten: sent

    # Frames written: the queue and its writer go once it is empty.
    assert conn.send("ping") is True
    for _ in range(10):
        await asyncio.sleep(0)
    assert ws.written == ["m1 again", "ping"] and conn.pending_bytes == 0
    left = _containers_and_tasks(conn)
    assert [type(o) for o in left] == [dict]  # only the revocation count stays, as it must
    await conn.finish()


def test_a_socket_keeps_no_framework_layers_and_no_token_suspended(make: Factory) -> None:
    project = make.project()
    token = project.owner.token
    with signed_in(make.client, token) as agent:
        # Answered by the reading loop, which runs once authentication is over.
        agent.send("unsubscribe", topic=f"/{project.id}/requests")
        agent.expect("unsubscribed")
        chains = [_await_chain(t) for t in _suspended_tasks()]
        sockets = [c for c in chains if any(code.co_qualname == "Hub.serve" for code, _ in c)]
        assert len(sockets) == 1, chains
        # No middleware, router, route or exception wrapper waits for as long as it is open.
        names = [(code.co_qualname, code.co_filename) for code, _ in sockets[0]]
        layers = [name for name, filename in names if _STACK.search(filename)]
        assert layers == [], names
        # Nor does the token of its URL, once checked.
        bare = token.split(" ", 1)[-1]
        kept = [code.co_qualname for code, values in sockets[0]
                if any(isinstance(v, str) and bare in v for v in values)]
        assert kept == [], kept


_STACK = re.compile(r"starlette/(middleware|routing|_exception_handler)")


def _suspended_tasks() -> Iterator[asyncio.Task[Any]]:
    for thing in gc.get_objects():
        # type(), not isinstance(): a dead weak proxy among the objects raises on the latter.
        if issubclass(type(thing), asyncio.Task) and not thing.done():
            yield thing


def _await_chain(task: asyncio.Task[Any]) -> list[tuple[CodeType, list[object]]]:
    """The code and local values of each coroutine the task waits in, outermost first."""
    chain = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            break
        chain.append((frame.f_code, list(frame.f_locals.values())))
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return chain


def test_sockets_compress_each_message_on_its_own(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        asyncio.run(_compressed_snapshot(server.url))


async def _compressed_snapshot(url: str) -> None:
    from websockets.asyncio.client import connect

    async with api_on(url) as api:
        chat = await api.conversation("hello " * 200)
        async with connect(socket_url(url, chat.visitor.token)) as ws:
            extensions = ws.response.headers["Sec-WebSocket-Extensions"]
            assert extensions.startswith("permessage-deflate"), extensions
            # Neither side keeps a compressor's or a decompressor's state between messages.
            assert "server_no_context_takeover" in extensions, extensions
            assert "client_no_context_takeover" in extensions, extensions
            # Frames read past the server's heartbeats, which may come at any time.
            socket = Socket(ws)
            await socket.expect("authenticated")
            await socket.send("subscribe", topic=chat.messages_topic)
            snapshot = await socket.expect("publish")
            assert "hello hello" in json.dumps(snapshot)  # a large frame arrives whole

