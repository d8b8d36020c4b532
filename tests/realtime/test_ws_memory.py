"""Memory exhaustion over /ws: sockets that never read, re-subscribing to a long conversation,
must not make a real server process buffer without bound (measured as its resident memory)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from websockets.exceptions import InvalidState

from tests.realtime.live_api import TIMEOUT, Conversation, api_on, open_socket
from tests.realtime.rawsocket import RawSocket
from tests.realtime.served import Served, served

MESSAGES = 2000
TEXT = "m" * 2000  # about 2 KB a message
SOCKETS = 20
ROUNDS = 16
MIB = 1024 * 1024


async def _long_conversation(url: str) -> Conversation:
    async with api_on(url, timeout=30) as api:
        chat = await api.conversation("hello")
        gate = asyncio.Semaphore(8)

        async def post(n: int) -> None:
            async with gate:
                await api.send(chat.owner, chat.project_id, chat.request_id, f"{n} {TEXT}")

        await asyncio.gather(*(post(n) for n in range(MESSAGES)))
        # A client that reads gets the newest messages, and warms the server up.
        widget = await open_socket(url, chat.visitor.token)
        assert len(await widget.subscribe(chat.messages_topic)) > 0
        await widget.ws.close()
        return chat


def test_non_reading_sockets_of_one_visitor_leave_memory_bounded(tmp_path: Path) -> None:
    # The per-session socket cap is lifted to the attack's 20 sockets, so the byte bounds of
    # queues and snapshots alone have to hold memory down (the default cap only admits fewer).
    with served(
        tmp_path,
        ws_sockets_per_session=str(SOCKETS),
        message_rate_per_ip="0",
        message_rate_per_project="0",
    ) as server:
        chat = asyncio.run(_long_conversation(server.url))
        idle = _settled_rss(server)
        peak = _attack(server, chat)
    assert peak - idle < 100 * MIB, f"idle {idle / MIB:.0f} MiB, peak {peak / MIB:.0f} MiB"


def _settled_rss(server: Served) -> int:
    time.sleep(1)
    return server.rss_bytes()


def _attack(server: Served, chat: Conversation) -> int:
    """Subscribe again and again on sockets that never read; the peak resident memory."""
    sockets = [RawSocket(server.url, chat.visitor.token) for _ in range(SOCKETS)]
    peak = server.rss_bytes()
    try:
        for round_ in range(ROUNDS):
            # A full replay (since=0) and the newest page, in turn; one frame per socket a
            # round, paced under the frame budget so that only the memory bounds can stop it.
            cursor = {"since": 0} if round_ % 2 == 0 else {}
            for socket in sockets:
                with contextlib.suppress(OSError, InvalidState):  # closed by the server
                    socket.send({"action": "subscribe",
                                 "payload": {"topic": chat.messages_topic, **cursor}})
            peak = max(peak, _peak_rss(server, seconds=1.2))
        return max(peak, _peak_rss(server, seconds=TIMEOUT / 2))
    finally:
        for socket in sockets:
            socket.close()


def _peak_rss(server: Served, seconds: float) -> int:
    peak = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, server.rss_bytes())
        time.sleep(0.1)
    return peak
