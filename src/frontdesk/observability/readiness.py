"""Readiness: does this process's database answer, and Redis when one is configured?

A load balancer sends traffic only to processes that are ready; ``/health`` (liveness) never
touches either, so a database outage does not get every process restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

from frontdesk.extras import import_extra
from frontdesk.storage.database import Database

log = logging.getLogger("frontdesk.readiness")

OK = "ok"
UNREACHABLE = "unreachable"


class Readiness:
    """Asks each dependency a trivial question with a deadline of ``timeout`` seconds."""

    def __init__(self, db: Database, redis_url: str, timeout: float) -> None:
        self._db = db
        self._timeout = timeout
        self._states: dict[str, str] = {}
        # A client of its own, without retries: readiness must say how Redis is now.
        self._redis: Any = None
        if redis_url:
            redis = import_extra("redis.asyncio", extra="redis", wanted_by="FRONTDESK_REDIS_URL")
            self._redis = redis.Redis.from_url(
                redis_url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=None,
            )

    async def check(self) -> dict[str, str]:
        """``{"database": "ok" | "unreachable", "redis": …}``, Redis only when configured."""
        checks = {"database": await self._answer("database", self._db.fetch_value("SELECT 1"))}
        if self._redis is not None:
            checks["redis"] = await self._answer("redis", self._redis.ping())
        return checks

    async def _answer(self, name: str, question: Awaitable[object]) -> str:
        try:
            await asyncio.wait_for(question, self._timeout)
        except Exception as exc:  # any failure is "not ready"; the log says which
            self._note(name, UNREACHABLE, type(exc).__name__)
            return UNREACHABLE
        self._note(name, OK, "")
        return OK

    def _note(self, name: str, state: str, why: str) -> None:
        # Logged when it changes, not on every probe: a balancer asks every few seconds.
        if self._states.get(name, OK) != state:
            if state == OK:
                log.warning("readiness: %s answers again", name)
            else:
                log.warning("readiness: %s did not answer (%s)", name, why)
        self._states[name] = state

    async def close(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
