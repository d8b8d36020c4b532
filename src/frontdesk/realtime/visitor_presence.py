"""Visitor presence: when each visitor last had a live connection, shared through Redis.

The hub marks a visitor present when its socket authenticates, at every heartbeat round
while it stays open, and when it closes; so a visitor whose last mark is older than a few
heartbeats has had no live connection since. Without Redis (one process) the marks stay in
this process's memory; when Redis fails, this process's own marks answer meanwhile.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from frontdesk.clock import Clock
from frontdesk.extras import import_extra

log = logging.getLogger("frontdesk.visitor_presence")

_KEEP_SECONDS = 30 * 24 * 3600
_MEMORY_ENTRIES = 100_000
_REDIS_TIMEOUT = 1.0


class VisitorPresence:
    def __init__(self, clock: Clock, redis_url: str = "", namespace: str = "frontdesk") -> None:
        self._clock = clock
        self._namespace = namespace
        self._memory: OrderedDict[str, float] = OrderedDict()
        self._redis: Any = None
        if redis_url:
            redis = import_extra("redis.asyncio", extra="redis", wanted_by="FRONTDESK_REDIS_URL")
            self._redis = redis.Redis.from_url(
                redis_url, socket_timeout=_REDIS_TIMEOUT, socket_connect_timeout=_REDIS_TIMEOUT
            )

    def _key(self, project_id: str, visitor_id: str) -> str:
        return f"{self._namespace}:visitor-seen:{project_id}:{visitor_id}"

    async def touch(self, project_id: str, visitor_id: str) -> None:
        """Record that the visitor has a live connection now."""
        await self.touch_many([(project_id, visitor_id)])

    async def touch_many(self, visitors: Iterable[tuple[str, str]]) -> None:
        """Record that each (project, visitor) has a live connection now: one Redis trip."""
        now = self._clock.now()
        keys = [self._key(project_id, visitor_id) for project_id, visitor_id in visitors]
        for key in keys:
            self._memory[key] = now
            self._memory.move_to_end(key)
        while len(self._memory) > _MEMORY_ENTRIES:
            self._memory.popitem(last=False)
        if self._redis is not None and keys:
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.set(key, repr(now), ex=_KEEP_SECONDS)
                    await pipe.execute()
            except Exception as exc:
                log.warning("presence kept in memory: Redis failed (%s)", exc)

    async def last_seen(self, project_id: str, visitor_id: str) -> float | None:
        """Epoch seconds of the visitor's last live connection known, or None."""
        key = self._key(project_id, visitor_id)
        local = self._memory.get(key)
        if self._redis is None:
            return local
        try:
            shared = await self._redis.get(key)
        except Exception as exc:
            log.warning("presence read from memory: Redis failed (%s)", exc)
            return local
        seen = float(shared) if shared is not None else None
        if seen is None or (local is not None and local > seen):
            return local
        return seen

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
