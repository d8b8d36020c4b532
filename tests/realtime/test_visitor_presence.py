"""Visitor presence: when a visitor last had a live connection, shared through Redis."""

from __future__ import annotations

import asyncio
import uuid

from frontdesk.clock import FakeClock
from frontdesk.realtime.visitor_presence import VisitorPresence
from tests.conftest import REDIS_URL, require_service


def test_a_mark_made_by_one_process_is_seen_by_another() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    clock = FakeClock(1_900_000_000.0)
    namespace = "test-presence-" + uuid.uuid4().hex

    async def run() -> tuple[float | None, float | None, float | None]:
        here = VisitorPresence(clock, REDIS_URL, namespace)
        there = VisitorPresence(clock, REDIS_URL, namespace)
        try:
            before = await there.last_seen("p" * 24, "visitor-1")
            await here.touch("p" * 24, "visitor-1")
            clock.advance(60)
            seen = await there.last_seen("p" * 24, "visitor-1")
            other = await there.last_seen("p" * 24, "visitor-2")
            return before, seen, other
        finally:
            await here.close()
            await there.close()

    before, seen, other = asyncio.run(run())
    assert before is None and other is None
    assert seen == 1_900_000_000.0


def test_without_redis_the_process_remembers() -> None:
    clock = FakeClock(1_900_000_000.0)

    async def run() -> float | None:
        presence = VisitorPresence(clock)
        await presence.touch("p" * 24, "visitor-1")
        return await presence.last_seen("p" * 24, "visitor-1")

    assert asyncio.run(run()) == 1_900_000_000.0


def test_many_marks_made_at_once_are_each_seen_by_another_process() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    clock = FakeClock(1_900_000_000.0)
    namespace = "test-presence-" + uuid.uuid4().hex
    visitors = [("p" * 24, f"visitor-{n}") for n in range(3)]

    async def run() -> list[float | None]:
        here = VisitorPresence(clock, REDIS_URL, namespace)
        there = VisitorPresence(clock, REDIS_URL, namespace)
        try:
            await here.touch_many(visitors)
            return [await there.last_seen(p, v) for p, v in [*visitors, ("p" * 24, "other")]]
        finally:
            await here.close()
            await there.close()

    assert asyncio.run(run()) == [1_900_000_000.0] * 3 + [None]
