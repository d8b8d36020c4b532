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
from collections.abc import Set as AbstractSet
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


_NO_TOPICS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str


def frame_bytes(frame: str) -> int:
    """The UTF-8 size of ``frame``; most frames are ASCII, whose size is their length."""
    return len(frame) if frame.isascii() else len(frame.encode())


class Connection:
    # Slots, and containers made only when something goes in them: most sockets are idle and
    # subscribed to a topic or two, many (a widget not yet in a conversation) to none, and a
    # server holds thousands of them.
    __slots__ = (
        "_closer",
        "_held",
        "_on_close",
        "_pending_bytes",
        "_queue",
        "_queue_bytes",
        "_queue_limit",
        "_replayed",
        "_revocations",
        "_topics",
        "_writer",
        "budget_key",
        "closed",
        "expires_at",
        "jti",
        "last_seen",
        "opened_at",
        "principal",
        "slice",
        "websocket",
    )

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
        self._topics: set[str] | None = None
        # Live frames held per topic while that topic's replay is being read and sent.
        self._held: dict[str, list[tuple[str, str | None]]] | None = None
        # Ids of messages a replay sent per topic, and until when (monotonic) they are kept:
        # a message committed before the replay was read may have its live event still on
        # the way, and each message is sent once (its id is created once, never re-sent live).
        self._replayed: dict[str, tuple[set[str], float]] | None = None
        # How often this socket's agent was removed from each project, so a subscribe whose
        # access check raced a removal notices it.
        self._revocations: dict[str, int] | None = None
        # Whose frame budget this socket spends (realtime.rate_limit): its own, then its
        # session's once authenticated.
        self.budget_key = budget_key
        self.opened_at = now
        self.last_seen = now
        self.closed: _Close | None = None
        self.slice = 0  # the hub's heartbeat slice this socket is swept in
        self._queue_limit = queue_limit
        self._queue_bytes = queue_bytes
        self._pending_bytes = 0  # queued, being written and held, in UTF-8 bytes
        # Frames waiting, and the task writing them: both exist only while frames wait.
        self._queue: deque[str | _Close] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    @property
    def topics(self) -> AbstractSet[str]:
        """The topics this socket is subscribed to (read-only: ``add_topic``,
        ``discard_topic``)."""
        return self._topics if self._topics is not None else _NO_TOPICS

    def add_topic(self, topic: str) -> bool:
        """Subscribe to ``topic``; whether it is new."""
        if self._topics is None:
            self._topics = set()
        elif topic in self._topics:
            return False
        self._topics.add(topic)
        return True

    def discard_topic(self, topic: str) -> None:
        """Unsubscribe from ``topic``, forgetting what its replay sent."""
        if self._topics is not None:
            self._topics.discard(topic)
            if not self._topics:
                self._topics = None
        self._forget_replayed(topic)

    def revocations(self, project_id: str) -> int:
        """How often this socket's agent was removed from ``project_id``."""
        return self._revocations.get(project_id, 0) if self._revocations is not None else 0

    def count_revocation(self, project_id: str) -> None:
        if self._revocations is None:
            self._revocations = {}
        self._revocations[project_id] = self._revocations.get(project_id, 0) + 1

    def hold(self, topic: str) -> None:
        """Hold ``topic``'s live frames (``hold_or_send``) until ``release_held``."""
        if self._held is None:
            self._held = {}
        self._held[topic] = []

    def holding(self) -> list[str]:
        """The topics whose live frames are held now."""
        return list(self._held) if self._held is not None else []

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
        if not self._room_for(size, self._waiting()):
            return False
        self._pending_bytes += size
        self._enqueue(frame)
        return True

    def hold_or_send(self, topic: str, frame: str, object_id: str | None) -> None:
        if object_id is not None and self._replayed_already(topic, object_id):
            return
        held = self._held.get(topic) if self._held is not None else None
        if held is None:
            self.send(frame)
            return
        size = frame_bytes(frame)
        if self._room_for(size, len(held)):
            self._pending_bytes += size
            held.append((frame, object_id))

    def release_held(self, topic: str) -> list[tuple[str, str | None]]:
        """Stop holding ``topic``'s live frames; those held, to be sent or dropped."""
        if self._held is None:
            return []
        held = self._held.pop(topic, [])
        if not self._held:
            self._held = None
        self._pending_bytes -= sum(frame_bytes(frame) for frame, _ in held)
        return held

    def remember_replayed(self, topic: str, object_ids: set[str]) -> None:
        """Drop the live frames of ``object_ids`` that come after their replay on ``topic``."""
        if object_ids:
            if self._replayed is None:
                self._replayed = {}
            self._replayed[topic] = (object_ids, time.monotonic() + REPLAYED_MEMORY_SECONDS)
        else:
            self._forget_replayed(topic)

    def _replayed_already(self, topic: str, object_id: str) -> bool:
        if self._replayed is None:
            return False
        remembered = self._replayed.get(topic)
        if remembered is None:
            return False
        ids, until = remembered
        if until <= time.monotonic():
            self._forget_replayed(topic)
            return False
        if object_id not in ids:
            return False
        ids.discard(object_id)  # its one live event came: nothing more to drop for it
        if not ids:
            self._forget_replayed(topic)
        return True

    def _forget_replayed(self, topic: str) -> None:
        if self._replayed is not None:
            self._replayed.pop(topic, None)
            if not self._replayed:
                self._replayed = None

    def _waiting(self) -> int:
        return len(self._queue) if self._queue is not None else 0

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
        for topic in self.holding():
            self.release_held(topic)
        self._on_close(self)
        if flush and self._waiting() < self._queue_limit:
            self._enqueue(self.closed)
            return
        if self._writer is not None:
            self._writer.cancel()
        if self._queue is not None:
            self._pending_bytes -= sum(
                frame_bytes(i) for i in self._queue if isinstance(i, str)
            )
            self._queue = None
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
        if self._queue is None:
            self._queue = deque()
        self._queue.append(item)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())

    async def _write_queued(self) -> None:
        # Ends as soon as the queue is empty, dropping it and itself; ``_enqueue`` starts
        # anew. Both run on the event loop without an await between the emptiness check and
        # the task ending, so no frame is left behind.
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
            self._queue = None
            self._writer = None
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client went away; the read side cleans up

    async def _send_close(self, close: _Close) -> None:
        # A client that stopped reading may never let the close frame out: give up then; its
        # socket is no longer in any topic, so it costs no more than its transport buffer.
        with contextlib.suppress(TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
            await asyncio.wait_for(
                self.websocket.close(close.code, close.reason), timeout=CLOSE_TIMEOUT
            )
