"""/ws over real sockets: resume after a dropped connection, a client that stops reading."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.conftest import make_settings
from tests.live import live_server
from tests.realtime.live_api import api_on, open_socket
from tests.realtime.rawsocket import RawSocket


def test_a_visitor_that_drops_its_socket_misses_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fd.db'}")
    with live_server(settings) as server:
        asyncio.run(_drop_and_resume(server.url))


async def _drop_and_resume(url: str) -> None:
    async with api_on(url, timeout=10) as api:
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
    async with api_on(url, timeout=10) as api:
        chat = await api.conversation("help")
        owner, pid, visitor, rid = chat.owner, chat.project_id, chat.visitor, chat.request_id
        topic = chat.messages_topic

        stalled = RawSocket(url, owner.token)
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
