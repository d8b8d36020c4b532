"""RedisBroker: typed events survive the trip between processes' brokers."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from frontdesk.realtime.events import (
    Event,
    MembershipRevoked,
    MessagesRead,
    SessionRevoked,
    TypingChanged,
)
from frontdesk.realtime.redis_broker import RedisBroker
from tests.conftest import REDIS_URL, require_service

pytestmark = pytest.mark.redis


def test_events_published_on_one_broker_reach_every_broker() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    asyncio.run(_round_trip())


async def _round_trip() -> None:
    channel = "frontdesk-test:" + uuid.uuid4().hex
    sender, receiver = RedisBroker(REDIS_URL, channel), RedisBroker(REDIS_URL, channel)
    got: asyncio.Queue[Event] = asyncio.Queue()

    async def listen(event: Event) -> None:
        await got.put(event)

    receiver.subscribe(listen)
    await sender.start()
    await receiver.start()
    try:
        sent: list[Event] = [
            TypingChanged(
                project_id="p" * 24, request_id="r", user_id="u", fullname="Ada", typing=True
            ),
            MessagesRead(
                project_id="p" * 24, request_id="r", user_id="u", message_id="m" * 24, read_at=1
            ),
            SessionRevoked(jti="abc"),
            MembershipRevoked(project_id="p" * 24, user_id="u" * 24),
        ]
        for event in sent:
            await sender.publish(event)
        received = [await asyncio.wait_for(got.get(), 5) for _ in sent]
        assert received == sent
    finally:
        await sender.close()
        await receiver.close()
