"""Caps on the sockets of one session and of one client address, and one frame budget shared
by all sockets of a session, over real sockets against a live server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import make_settings
from tests.live import live_server
from tests.realtime.live_api import TIMEOUT, Socket, api_on, open_socket, socket_url


def _settings(tmp_path: Path, **overrides: Any) -> Any:
    return make_settings(tmp_path, f"sqlite:///{tmp_path / 'fd.db'}", **overrides)


async def _refused(url: str, token: str) -> tuple[str, int, str]:
    """Open a socket that the server refuses: (error code, close code, close reason)."""
    ws = await connect(socket_url(url, token))
    socket = Socket(ws)
    error = await socket.expect("error")
    try:
        while True:
            await socket.frame()
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return error["code"], closed.rcvd.code, closed.rcvd.reason


async def _open_once_room(url: str, token: str) -> Socket:
    """A socket opened as soon as the server has room for it again (it counts a closed one
    until it sees the disconnect)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            return await open_socket(url, token)
        except (AssertionError, ConnectionClosed):
            assert time.monotonic() < deadline, "no room after a socket closed"
            await asyncio.sleep(0.1)


def test_one_session_holds_at_most_its_cap_of_sockets(tmp_path: Path) -> None:
    with live_server(_settings(tmp_path, ws_sockets_per_session=3)) as server:
        asyncio.run(_session_cap(server.url))


async def _session_cap(url: str) -> None:
    async with api_on(url) as api:
        chat = await api.conversation("hello")
        sockets = [await open_socket(url, chat.visitor.token) for _ in range(3)]
        assert await _refused(url, chat.visitor.token) == (
            "too_many_sockets", 4429, "too_many_sockets"
        )
        # The admitted ones still work, and another session is not held to this one's cap.
        await sockets[0].subscribe(chat.messages_topic)
        other = await api.visitor(chat.project_id)
        others = [await open_socket(url, other.token) for _ in range(3)]
        # Closing one makes room again (counted until the server sees the disconnect).
        await sockets.pop().ws.close()
        sockets.append(await _open_once_room(url, chat.visitor.token))
        for socket in sockets + others:
            await socket.ws.close()


def test_one_address_holds_at_most_its_cap_of_sockets(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ws_sockets_per_address=4)
    with live_server(settings) as server:
        asyncio.run(_address_cap(server.url))


async def _address_cap(url: str) -> None:
    async with api_on(url) as api:
        chat = await api.conversation("hello")
        visitors = [await api.visitor(chat.project_id) for _ in range(5)]
        sockets = [await open_socket(url, v.token) for v in visitors[:4]]
        # A fifth session from the same address is refused before its token is even read.
        assert await _refused(url, visitors[4].token) == (
            "too_many_sockets", 4429, "too_many_sockets"
        )
        await sockets[0].ws.close()
        sockets[0] = await _open_once_room(url, visitors[4].token)
        for socket in sockets:
            await socket.ws.close()


RATE, BURST, SOCKETS = 5.0, 20, 12


def test_the_sockets_of_one_visitor_share_one_frame_budget(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, ws_frame_rate=RATE, ws_frame_burst=BURST, ws_sockets_per_session=SOCKETS
    )
    with live_server(settings) as server:
        asyncio.run(_typing_flood(server.url))


async def _typing_flood(url: str) -> None:
    async with api_on(url) as api:
        chat = await api.conversation("hello")
        agent = await open_socket(url, chat.owner.token)
        await agent.subscribe(chat.messages_topic)
        topic = f"/{chat.project_id}/requests/{chat.request_id}"
        widgets = [await open_socket(url, chat.visitor.token) for _ in range(SOCKETS)]
        for widget in widgets:  # each subscribe spends one frame of the shared budget
            await widget.send("subscribe", topic=topic)

        started = time.monotonic()

        async def flood(widget: Socket) -> None:
            for _ in range(40):
                try:
                    await widget.send("typing", topic=topic, typing=True)
                except ConnectionClosed:
                    return  # closed for flooding: as it should be
                await asyncio.sleep(0.05)

        await asyncio.gather(*(flood(w) for w in widgets))
        received = 0
        try:
            while True:
                frame = await agent.frame(timeout=1.0)
                received += frame["action"] == "typing"
        except TimeoutError:
            pass
        elapsed = time.monotonic() - started
        # Every socket sent 40 typing frames (480 in all); the agent hears at most what one
        # budget allows over the whole time (the burst, minus the subscribes, plus the rate).
        assert 0 < received <= BURST + RATE * elapsed, (received, elapsed)
        for socket in [agent, *widgets]:
            await socket.ws.close()
