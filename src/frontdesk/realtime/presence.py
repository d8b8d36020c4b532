"""Presence: which agents have a dashboard connection open, across every server process.

An agent's sockets are counted from authentication to disconnect. When the last one closes,
the agent is held unavailable after a grace period (``presence_grace_seconds``) unless a
socket opened meanwhile, and is made available again when one opens — only if it was the
server that made it unavailable (``actions.presence``).

The count lives in this process's memory, or in Redis when it is configured, so "the last
socket" means the last of every process: one sorted set per agent, a member per socket,
scored with the time it expires unless refreshed. Each process refreshes its own sockets every
heartbeat; a process that dies leaves members that expire within ``_TTL_HEARTBEATS``
heartbeats. Whichever process closes the last socket waits out the grace period and checks the
count again before it acts; an agent that came back during the change is restored at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from frontdesk.settings import Settings

log = logging.getLogger("frontdesk.realtime")

# A socket's entry expires after this many heartbeats without a refresh (its process died).
_TTL_HEARTBEATS = 3
PresenceHandler = Callable[[str], Awaitable[None]]


class SocketCounts(Protocol):
    """Open sockets per agent, counted where every process sees them."""

    async def add(self, user_id: str, socket: str) -> None: ...

    async def remove(self, user_id: str, socket: str) -> int:
        """Forget ``socket``; how many sockets the agent still has."""

    async def count(self, user_id: str) -> int: ...

    async def refresh(self, sockets: list[tuple[str, str]]) -> None:
        """Keep these (user id, socket) entries alive for another while."""

    async def close(self) -> None: ...


class LocalSocketCounts:
    """One process: the counts are this process's sockets."""

    def __init__(self) -> None:
        self._sockets: dict[str, set[str]] = {}

    async def add(self, user_id: str, socket: str) -> None:
        self._sockets.setdefault(user_id, set()).add(socket)

    async def remove(self, user_id: str, socket: str) -> int:
        sockets = self._sockets.get(user_id, set())
        sockets.discard(socket)
        if not sockets:
            self._sockets.pop(user_id, None)
        return len(sockets)

    async def count(self, user_id: str) -> int:
        return len(self._sockets.get(user_id, ()))

    async def refresh(self, sockets: list[tuple[str, str]]) -> None:
        return None

    async def close(self) -> None:
        self._sockets.clear()


class RedisSocketCounts:
    """Several processes: a sorted set per agent in Redis, scored by expiry time."""

    def __init__(self, url: str, namespace: str, ttl: float) -> None:
        import redis.asyncio as redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._namespace = namespace
        self._ttl = ttl

    def _key(self, user_id: str) -> str:
        return f"{self._namespace}:presence:{user_id}"

    async def add(self, user_id: str, socket: str) -> None:
        await self.refresh([(user_id, socket)])

    async def remove(self, user_id: str, socket: str) -> int:
        await self._client.zrem(self._key(user_id), socket)
        return await self.count(user_id)

    async def count(self, user_id: str) -> int:
        key = self._key(user_id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", time.time())
            pipe.zcard(key)
            _, live = await pipe.execute()
        return int(live)

    async def refresh(self, sockets: list[tuple[str, str]]) -> None:
        if not sockets:
            return
        expires = time.time() + self._ttl
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id, socket in sockets:
                pipe.zadd(self._key(user_id), {socket: expires})
                pipe.expire(self._key(user_id), int(self._ttl) + 1)
            await pipe.execute()

    async def close(self) -> None:
        await self._client.aclose()


class Presence:
    """Counts agents' sockets and calls ``on_away`` / ``on_back`` (with the agent's user id)
    when an agent has been gone for the grace period, and when it connects again."""

    def __init__(
        self,
        counts: SocketCounts,
        *,
        grace: float,
        on_away: PresenceHandler,
        on_back: PresenceHandler,
    ) -> None:
        self._counts = counts
        self._grace = grace
        self._on_away = on_away
        self._on_back = on_back
        self._process = uuid.uuid4().hex
        self._mine: dict[str, str] = {}  # socket key -> user id, this process's sockets
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    def socket_key(self, socket: object) -> str:
        return f"{self._process}:{id(socket):x}"

    async def connected(self, user_id: str, socket: object) -> None:
        key = self.socket_key(socket)
        self._mine[key] = user_id
        timer = self._timers.pop(user_id, None)
        if timer is not None:
            timer.cancel()
        try:
            await self._counts.add(user_id, key)
        except Exception:
            log.exception("presence: could not count an agent's socket")
        try:
            await self._on_back(user_id)
        except Exception:
            log.exception("presence: could not make a returning agent available")

    async def disconnected(self, socket: object) -> None:
        key = self.socket_key(socket)
        user_id = self._mine.pop(key, None)
        if user_id is None:
            return
        try:
            remaining = await self._counts.remove(user_id, key)
        except Exception:
            log.exception("presence: could not record an agent's departure")
            return
        # A stopping process marks nobody away: its agents reconnect to another one.
        if remaining == 0 and user_id not in self._timers and not self._closed:
            self._timers[user_id] = asyncio.create_task(self._wait_then_check(user_id))

    async def _wait_then_check(self, user_id: str) -> None:
        try:
            await asyncio.sleep(self._grace)
            if await self._counts.count(user_id) > 0:
                return
            await self._on_away(user_id)
            # A socket that opened while the agent was being marked away found nothing to
            # restore: restore it now.
            if await self._counts.count(user_id) > 0:
                await self._on_back(user_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("presence: could not mark an agent away")
        finally:
            if self._timers.get(user_id) is asyncio.current_task():
                del self._timers[user_id]

    async def refresh(self) -> None:
        """Keep this process's sockets counted (every heartbeat)."""
        try:
            await self._counts.refresh([(u, k) for k, u in self._mine.items()])
        except Exception:
            log.exception("presence: could not refresh the socket counts")

    async def close(self) -> None:
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        for timer in list(self._timers.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        self._timers.clear()
        await self._counts.close()


def presence_for(
    settings: Settings, *, on_away: PresenceHandler, on_back: PresenceHandler
) -> Presence | None:
    """Presence as ``settings`` ask for it: counted in Redis when it is configured, in this
    process otherwise; None when ``presence_grace_seconds`` is 0 (off)."""
    if not settings.presence_grace_seconds:
        return None
    counts: SocketCounts = (
        RedisSocketCounts(
            settings.redis_url,
            settings.redis_channel,
            ttl=settings.ws_heartbeat_interval * _TTL_HEARTBEATS,
        )
        if settings.redis_url
        else LocalSocketCounts()
    )
    return Presence(
        counts, grace=settings.presence_grace_seconds, on_away=on_away, on_back=on_back
    )
