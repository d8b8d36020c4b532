"""One WebSocket as the hub sees it: who it is, what it listens to, what waits to be written.

Every frame to a socket goes through its bounded queue and one writer task, so a client that
reads slowly only ever delays itself: when its queue is full it is closed (SLOW_CONSUMER)
instead of buffering without bound. The queue is bounded twice, in frames and in bytes (the
frames waiting, the one being written and the live frames held during a replay), because a few
large frames hold as much memory as many small ones. A frame is one string however many
sockets it goes to; only its size is counted per socket. A socket closed as too slow drops
what it still held. The writer task exists only while frames wait, so an idle socket costs no
task. ``close`` is idempotent and never waits for the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from frontdesk.auth.principals import Principal
from frontdesk.realtime.protocol import CloseCode

log = logging.getLogger("frontdesk.realtime")

# How long a close frame may wait behind a client that does not read before it is abandoned.
CLOSE_TIMEOUT = 30.0

# How long the ids of messages a replay sent are remembered, so that their live events, when
# they come later than the replay, are not sent again. An event leaves right after its commit:
# this is far longer than one can take to cross the broker.
REPLAYED_MEMORY_SECONDS = 60.0


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


def frame_bytes(frame: str) -> int:
    """The UTF-8 size of ``frame``; most frames are ASCII, whose size is their length."""
    return len(frame) if frame.isascii() else len(frame.encode())


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        *,
        queue_limit: int,
        queue_bytes: int,
        budget_key: str,
        now: float,
        on_close: Callable[[Connection], None],
    ) -> None:
        self.websocket = websocket
        self._on_close = on_close
        self.principal: Principal | None = None
        self.jti: str | None = None
        self.expires_at: float | None = None  # the token's exp, epoch seconds
        self.topics: set[str] = set()
        # Live frames held per topic while that topic's replay is being read and sent.
        self.held: dict[str, list[tuple[str, str | None]]] = {}
        # Ids of messages a replay sent per topic, and until when (monotonic) they are kept:
        # a message committed before the replay was read may have its live event still on
        # the way, and each message is sent once (its id is created once, never re-sent live).
        self.replayed: dict[str, tuple[set[str], float]] = {}
        # How often this socket's agent was removed from each project, so a subscribe whose
        # access check raced a removal notices it.
        self.revocations: dict[str, int] = {}
        # Whose frame budget this socket spends (realtime.rate_limit): its own, then its
        # session's once authenticated.
        self.budget_key = budget_key
        self.opened_at = now
        self.last_seen = now
        self.closed: _Close | None = None
        self._queue_limit = queue_limit
        self._queue_bytes = queue_bytes
        self._pending_bytes = 0  # queued, being written and held, in UTF-8 bytes
        self._queue: deque[str | _Close] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    def is_closed(self) -> bool:
        return self.closed is not None

    @property
    def user_id(self) -> str | None:
        if self.principal is None:
            return None
        return self.principal.id

    def send(self, frame: str) -> bool:
        """Queue ``frame``; False (and the socket closing as too slow) when the queue is full."""
        if self.closed is not None:
            return False
        size = frame_bytes(frame)
        if not self._room_for(size, len(self._queue)):
            return False
        self._pending_bytes += size
        self._enqueue(frame)
        return True

    def hold_or_send(self, topic: str, frame: str, object_id: str | None) -> None:
        if object_id is not None and self._replayed_already(topic, object_id):
            return
        held = self.held.get(topic)
        if held is None:
            self.send(frame)
            return
        size = frame_bytes(frame)
        if self._room_for(size, len(held)):
            self._pending_bytes += size
            held.append((frame, object_id))

    def release_held(self, topic: str) -> list[tuple[str, str | None]]:
        """Stop holding ``topic``'s live frames; those held, to be sent or dropped."""
        held = self.held.pop(topic, [])
        self._pending_bytes -= sum(frame_bytes(frame) for frame, _ in held)
        return held

    def remember_replayed(self, topic: str, object_ids: set[str]) -> None:
        """Drop the live frames of ``object_ids`` that come after their replay on ``topic``."""
        if object_ids:
            self.replayed[topic] = (object_ids, time.monotonic() + REPLAYED_MEMORY_SECONDS)
        else:
            self.replayed.pop(topic, None)

    def _replayed_already(self, topic: str, object_id: str) -> bool:
        remembered = self.replayed.get(topic)
        if remembered is None:
            return False
        ids, until = remembered
        if until <= time.monotonic():
            del self.replayed[topic]
            return False
        if object_id not in ids:
            return False
        ids.discard(object_id)  # its one live event came: nothing more to drop for it
        if not ids:
            del self.replayed[topic]
        return True

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    def _room_for(self, size: int, waiting: int) -> bool:
        """Whether one more frame of ``size`` bytes fits after ``waiting`` others. Full: closed
        as too slow, without flushing (the point is to drop what it holds)."""
        if waiting < self._queue_limit and self._pending_bytes + size <= self._queue_bytes:
            return True
        self.close(CloseCode.SLOW_CONSUMER, "slow_consumer", flush=False)
        return False

    def close(self, code: int, reason: str, *, flush: bool = True) -> None:
        """Close with ``code``; with ``flush``, after the frames already queued."""
        if self.closed is not None:
            return
        self.closed = _Close(code, reason)
        for topic in list(self.held):
            self.release_held(topic)
        self._on_close(self)
        if flush and len(self._queue) < self._queue_limit:
            self._enqueue(self.closed)
            return
        if self._writer is not None:
            self._writer.cancel()
        self._pending_bytes -= sum(frame_bytes(i) for i in self._queue if isinstance(i, str))
        self._queue.clear()
        self._closer = asyncio.create_task(self._send_close(self.closed))

    async def finish(self) -> None:
        """Stop writing once the client is gone (the read side saw the disconnect)."""
        if self.closed is None:
            self.closed = _Close(CloseCode.NORMAL, "")
            self._on_close(self)
        for task in (self._writer, self._closer):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _enqueue(self, item: str | _Close) -> None:
        self._queue.append(item)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())

    async def _write_queued(self) -> None:
        # Ends as soon as the queue is empty; ``_enqueue`` starts a new one. Both run on the
        # event loop without an await between the emptiness check and the task ending, so no
        # frame is left behind.
        try:
            while self._queue:
                item = self._queue.popleft()
                if isinstance(item, _Close):
                    await self._send_close(item)
                    return
                try:
                    await self.websocket.send_text(item)
                finally:
                    self._pending_bytes -= frame_bytes(item)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client went away; the read side cleans up

    async def _send_close(self, close: _Close) -> None:
        # A client that stopped reading may never let the close frame out: give up then; its
        # socket is no longer in any topic, so it costs no more than its transport buffer.
        with contextlib.suppress(TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
            await asyncio.wait_for(
                self.websocket.close(close.code, close.reason), timeout=CLOSE_TIMEOUT
            )
