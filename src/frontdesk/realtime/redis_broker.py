"""Events across processes: Redis pub/sub on one channel per deployment.

Every process publishes the events it commits and receives everyone's — its own included — so
a hub sees the same ordered stream whichever process made the change. Events travel as the
JSON of ``events.EVENT_ADAPTER``. Pub/sub keeps nothing: an event published while a process is
disconnected from Redis is lost to its sockets, which is why clients resume from their last
message on reconnect. A failed publish is logged, never raised: the change is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as redis
from pydantic import ValidationError

from frontdesk.realtime.broker import Listener
from frontdesk.realtime.events import EVENT_ADAPTER, Event

log = logging.getLogger("frontdesk.realtime")

_RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


class RedisBroker:
    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._channel = channel
        self._listeners: list[Listener] = []
        self._client: redis.Redis | None = None
        self._reader: asyncio.Task[None] | None = None

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        """Connect and subscribe; returns once Redis has confirmed the subscription."""
        self._client = redis.Redis.from_url(self._url)
        pubsub = await self._subscribed()
        self._reader = asyncio.create_task(self._read_forever(pubsub))

    async def publish(self, event: Event) -> None:
        assert self._client is not None, "start() the broker first"
        try:
            await self._client.publish(self._channel, EVENT_ADAPTER.dump_json(event))
        except (redis.RedisError, OSError):
            log.exception("could not publish %s to Redis", type(event).__name__)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._client is not None:
            await self._client.aclose()
        self._listeners.clear()

    async def _subscribed(self) -> redis.client.PubSub:
        assert self._client is not None
        pubsub = self._client.pubsub()
        await pubsub.subscribe(self._channel)
        while True:
            message = await pubsub.get_message(timeout=5.0)
            if message is None:
                raise TimeoutError(f"Redis did not confirm the subscription to {self._channel}")
            if message["type"] == "subscribe":
                return pubsub

    async def _read_forever(self, pubsub: redis.client.PubSub | None) -> None:
        failures = 0
        while True:
            try:
                if pubsub is None:
                    pubsub = await self._subscribed()
                    log.info("subscribed to Redis again")
                async for message in pubsub.listen():
                    failures = 0
                    if message["type"] == "message":
                        await self._deliver(message["data"])
            except (redis.RedisError, OSError, TimeoutError):
                delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("lost the Redis subscription; retrying in %.1fs", delay)
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
                    pubsub = None
                await asyncio.sleep(delay)

    async def _deliver(self, data: bytes) -> None:
        try:
            event = EVENT_ADAPTER.validate_json(data)
        except ValidationError:
            log.warning("ignored a malformed event on %s", self._channel)
            return
        for listener in self._listeners:
            await listener(event)
