"""A socket's send queue is bounded in bytes as well as frames: a client that does not read
is closed as too slow (4409) once the frames waiting for it pass the byte bound, and what it
held is dropped."""

from __future__ import annotations

import asyncio
from typing import Any

from frontdesk.realtime.connection import Connection, frame_bytes
from frontdesk.realtime.protocol import CloseCode
from frontdesk.realtime.rate_limit import socket_key


class _StalledWebSocket:
    """A peer that never reads: every write waits forever; closes are recorded."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.closes: list[tuple[int, str]] = []
        self._never = asyncio.Event()

    async def send_text(self, text: str) -> None:
        self.written.append(text)
        await self._never.wait()

    async def close(self, code: int, reason: str) -> None:
        self.closes.append((code, reason))


def _connection(ws: _StalledWebSocket, *, frames: int, queue_bytes: int) -> Connection:
    socket: Any = ws
    return Connection(
        socket,
        queue_limit=frames,
        queue_bytes=queue_bytes,
        budget_key=socket_key(),
        now=0.0,
        on_close=lambda conn: None,
    )


def test_a_stalled_client_is_closed_once_its_frames_pass_the_byte_bound() -> None:
    asyncio.run(_byte_bound())


async def _byte_bound() -> None:
    ws = _StalledWebSocket()
    conn = _connection(ws, frames=1000, queue_bytes=10_000)
    frame = "x" * 3000
    assert [conn.send(frame) for _ in range(3)] == [True, True, True]
    await asyncio.sleep(0)  # the writer takes the first frame and stalls on it
    assert ws.written == [frame]
    assert conn.pending_bytes == 9000  # the one being written counts until it is out
    assert conn.send(frame) is False  # 12,000 bytes would wait: far fewer than 1000 frames
    assert conn.closed is not None and conn.closed.code == CloseCode.SLOW_CONSUMER
    for _ in range(100):  # the close is sent by a task of its own
        if ws.closes:
            break
        await asyncio.sleep(0.01)
    assert ws.closes == [(CloseCode.SLOW_CONSUMER, "slow_consumer")]
    assert conn.pending_bytes == 0  # the queue was dropped, and the stalled write with it
    await conn.finish()


def test_live_frames_held_during_a_replay_count_against_the_same_bound() -> None:
    asyncio.run(_held_bound())


async def _held_bound() -> None:
    ws = _StalledWebSocket()
    conn = _connection(ws, frames=1000, queue_bytes=10_000)
    conn.hold("/t")
    for _ in range(3):
        conn.hold_or_send("/t", "y" * 3000, None)
    assert conn.pending_bytes == 9000 and not conn.is_closed()
    conn.hold_or_send("/t", "y" * 3000, None)
    assert conn.closed is not None and conn.closed.code == CloseCode.SLOW_CONSUMER
    assert conn.holding() == [] and conn.pending_bytes == 0
    await conn.finish()


def test_frames_are_counted_in_utf8_bytes() -> None:
    assert frame_bytes("abc") == 3
    assert frame_bytes("é" * 10) == 20
    assert frame_bytes("\U0001f600") == 4
