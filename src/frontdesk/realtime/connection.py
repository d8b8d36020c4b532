"""One WebSocket as the hub sees it: who it is, what it listens to, what waits to be written.

Every frame to a socket goes through its bounded queue and one writer task, so a client that
reads slowly only ever delays itself: when its queue is full it is closed (SLOW_CONSUMER)
instead of buffering without bound. The writer task exists only while frames wait, so an idle
socket costs no task. ``close`` is idempotent and never waits for the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from frontdesk.auth.principals import Agent, Principal
from frontdesk.realtime.protocol import CloseCode
from frontdesk.realtime.rate_limit import TokenBucket

log = logging.getLogger("frontdesk.realtime")

# How long a close frame may wait behind a client that does not read before it is abandoned.
CLOSE_TIMEOUT = 30.0


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        *,
        queue_limit: int,
        frame_budget: TokenBucket,
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
        # How often this socket's agent was removed from each project, so a subscribe whose
        # access check raced a removal notices it.
        self.revocations: dict[str, int] = {}
        self.frame_budget = frame_budget
        self.opened_at = now
        self.last_seen = now
        self.closed: _Close | None = None
        self._queue_limit = queue_limit
        self._queue: deque[str | _Close] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    def is_closed(self) -> bool:
        return self.closed is not None

    @property
    def user_id(self) -> str | None:
        if self.principal is None:
            return None
        return (
            self.principal.user_id
            if isinstance(self.principal, Agent)
            else (self.principal.visitor_id)
        )

    def send(self, frame: str) -> bool:
        """Queue ``frame``; False (and the socket closing as too slow) when the queue is full."""
        if self.closed is not None:
            return False
        if len(self._queue) >= self._queue_limit:
            self.close(CloseCode.SLOW_CONSUMER, "slow_consumer", flush=False)
            return False
        self._enqueue(frame)
        return True

    def hold_or_send(self, topic: str, frame: str, object_id: str | None) -> None:
        held = self.held.get(topic)
        if held is None:
            self.send(frame)
        elif len(held) < self._queue_limit:
            held.append((frame, object_id))
        else:
            self.close(CloseCode.SLOW_CONSUMER, "slow_consumer", flush=False)

    def close(self, code: int, reason: str, *, flush: bool = True) -> None:
        """Close with ``code``; with ``flush``, after the frames already queued."""
        if self.closed is not None:
            return
        self.closed = _Close(code, reason)
        self.held.clear()
        self._on_close(self)
        if flush and len(self._queue) < self._queue_limit:
            self._enqueue(self.closed)
            return
        if self._writer is not None:
            self._writer.cancel()
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
                await self.websocket.send_text(item)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client went away; the read side cleans up

    async def _send_close(self, close: _Close) -> None:
        # A client that stopped reading may never let the close frame out: give up then; its
        # socket is no longer in any topic, so it costs no more than its transport buffer.
        with contextlib.suppress(TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
            await asyncio.wait_for(
                self.websocket.close(close.code, close.reason), timeout=CLOSE_TIMEOUT
            )
