"""RedisBroker: typed events survive the trip between processes' brokers."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as redis

from frontdesk.realtime.events import (
    Event,
    MembershipRevoked,
    MessagesRead,
    ProjectChanged,
    SessionRevoked,
    TypingChanged,
)
from frontdesk.realtime.redis_broker import RedisBroker, connection_name
from tests.conftest import REDIS_URL, require_service
from tests.relay import Relay, relay_to

pytestmark = pytest.mark.redis


def test_events_published_on_one_broker_reach_every_broker() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    asyncio.run(_round_trip())


async def _round_trip() -> None:
    channel = "frontdesk-test:" + uuid.uuid4().hex
    sender, receiver = RedisBroker(REDIS_URL, channel), RedisBroker(REDIS_URL, channel)
    got: asyncio.Queue[Event] = asyncio.Queue()

    receiver.subscribe(got.put)
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


def test_a_dropped_subscription_is_reported_made_again_and_delivers_again() -> None:
    """The client library may not quietly re-make the subscription: the gap's events are lost,
    so the broker's watchers must hear of the drop (False) and of the return (True)."""
    require_service("Redis", "127.0.0.1", 6379)
    asyncio.run(_drop_and_return())


async def _drop_and_return() -> None:
    channel = "frontdesk-test:" + uuid.uuid4().hex
    broker = RedisBroker(REDIS_URL, channel, first_retry=0.2)
    links: asyncio.Queue[bool] = asyncio.Queue()
    got: asyncio.Queue[Event] = asyncio.Queue()

    broker.watch_link(links.put)
    broker.subscribe(got.put)
    await broker.start()
    admin = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        subscriptions = [
            c for c in await admin.client_list(_type="pubsub")
            if c["name"] == connection_name()
        ]
        assert len(subscriptions) == 1  # the only broker of this process
        await admin.client_kill_filter(_id=subscriptions[0]["id"])
        assert [await asyncio.wait_for(links.get(), 10) for _ in range(2)] == [False, True]
        revoked = SessionRevoked(jti="after-the-drop")
        await broker.publish(revoked)  # a broker hears its own events through Redis too
        assert await asyncio.wait_for(got.get(), 5) == revoked
    finally:
        await admin.aclose()
        await broker.close()


def test_access_events_published_while_redis_is_unreachable_reach_everyone_later() -> None:
    """Cut off from Redis, a process still closes its own sockets (local delivery), and its
    revocations reach the other processes once Redis answers again."""
    require_service("Redis", "127.0.0.1", 6379)
    with relay_to("127.0.0.1", 6379) as relay:
        asyncio.run(_outage(relay))


async def _outage(relay: Relay) -> None:
    channel = "frontdesk-test:" + uuid.uuid4().hex
    cut_off = RedisBroker(f"redis://127.0.0.1:{relay.port}/0", channel, first_retry=0.2)
    other = RedisBroker(REDIS_URL, channel)
    here: asyncio.Queue[Event] = asyncio.Queue()
    there: asyncio.Queue[Event] = asyncio.Queue()
    links: asyncio.Queue[bool] = asyncio.Queue()

    cut_off.subscribe(here.put)
    cut_off.watch_link(links.put)
    other.subscribe(there.put)
    await cut_off.start()
    await other.start()
    try:
        relay.stop()
        assert await asyncio.wait_for(links.get(), 10) is False
        revoked = SessionRevoked(jti="signed-out-during-the-outage")
        typing = TypingChanged(
            project_id="p" * 24, request_id="r", user_id="u", fullname="Ada", typing=True
        )
        # A project change evicts other processes' caches (auth.project_cache): kept too.
        changed = ProjectChanged(project_id="p" * 24, user_id="u" * 24)
        await cut_off.publish(revoked)  # fails: delivered here, kept for later
        await cut_off.publish(changed)  # likewise
        await cut_off.publish(typing)  # fails: delivered here, not kept
        assert [await asyncio.wait_for(here.get(), 10) for _ in range(3)] == [
            revoked, changed, typing
        ]
        assert there.empty()

        relay.start()  # the same port: Redis is reachable again
        assert await asyncio.wait_for(links.get(), 15) is True
        assert [await asyncio.wait_for(there.get(), 5) for _ in range(2)] == [revoked, changed]
        # Through Redis this time.
        assert [await asyncio.wait_for(here.get(), 5) for _ in range(2)] == [revoked, changed]
        await asyncio.sleep(0.3)
        assert there.empty()  # the typing signal is not replayed
    finally:
        await cut_off.close()
        await other.close()
