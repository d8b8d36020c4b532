"""Events across processes: Redis pub/sub on one channel per deployment.

Every process publishes the events it commits and receives everyone's — its own included — so
a hub sees the same ordered stream whichever process made the change. Events travel as the
JSON of ``events.EVENT_ADAPTER``. A failed publish is logged, never raised (the change is
committed), and the event is still delivered to this process's own listeners; an event that
takes access away (``events.ACCESS_EVENTS``) is kept, up to ``_MAX_UNSENT``, and published
again before the next publish or once the subscription is back.

Pub/sub keeps nothing: an event published while this process's subscription is down is lost
to it. So the subscription is this module's own connection, which the client library may not
quietly re-establish: when it drops, the broker tells its link watchers (the session cache
stops caching), resubscribes with backoff, and then tells them the link is back (the hub
re-checks every socket against the database, since revocations may have been missed). Clients
recover the messages they missed by resuming.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from typing import Any, cast

import redis.asyncio as redis
from pydantic import ValidationError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from frontdesk.realtime.broker import LinkWatcher, Listener
from frontdesk.realtime.events import ACCESS_EVENTS, EVENT_ADAPTER, Event

log = logging.getLogger("frontdesk.realtime")

_MAX_RETRY_SECONDS = 5.0
_MAX_UNSENT = 10_000
# How often an idle subscription is pinged, so a link that died silently is noticed.
_HEALTH_CHECK_SECONDS = 10


def connection_name() -> str:
    """The name this process's Redis connections carry (``CLIENT LIST`` shows it)."""
    return f"frontdesk-{os.getpid()}"


class RedisBroker:
    def __init__(self, url: str, channel: str, *, first_retry: float = 0.1) -> None:
        """``first_retry``: seconds before resubscribing after a drop, doubled per failure
        up to 5 s (or ``first_retry`` if longer)."""
        self._url = url
        self._channel = channel
        self._first_retry = first_retry
        self._listeners: list[Listener] = []
        self._watchers: list[LinkWatcher] = []
        self._client: redis.Redis | None = None
        self._subscriber: redis.Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._unsent: deque[Event] = deque(maxlen=_MAX_UNSENT)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def watch_link(self, watcher: LinkWatcher) -> None:
        self._watchers.append(watcher)

    async def start(self) -> None:
        """Connect and subscribe; returns once Redis has confirmed the subscription."""
        name = connection_name()
        self._client = redis.Redis.from_url(self._url, client_name=name)
        # No retries of its own: a dropped subscription must surface here, not be re-made
        # behind our back with the events of the gap silently lost.
        self._subscriber = redis.Redis.from_url(
            self._url,
            client_name=name,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=_HEALTH_CHECK_SECONDS,
        )
        pubsub = await self._subscribed()
        self._reader = asyncio.create_task(self._read_forever(pubsub))

    async def publish(self, event: Event) -> None:
        try:
            await self._publish_unsent()
            await self._publish(event)
        except (redis.RedisError, OSError):
            log.exception("could not publish %s to Redis; delivered in this process only",
                          type(event).__name__)
            if isinstance(event, ACCESS_EVENTS):
                self._unsent.append(event)
            await self._deliver_event(event)

    async def _publish(self, event: Event) -> None:
        assert self._client is not None, "start() the broker first"
        await self._client.publish(self._channel, EVENT_ADAPTER.dump_json(event))

    async def _publish_unsent(self) -> None:
        while self._unsent:
            await self._publish(self._unsent[0])
            self._unsent.popleft()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for client in (self._client, self._subscriber):
            if client is not None:
                await client.aclose()
        self._listeners.clear()
        self._watchers.clear()

    async def _subscribed(self) -> redis.client.PubSub:
        assert self._subscriber is not None
        pubsub = self._subscriber.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            while True:
                message = await pubsub.get_message(timeout=5.0)
                if message is None:
                    raise TimeoutError(f"Redis did not confirm the subscription to {self._channel}")
                if message["type"] == "subscribe":
                    return pubsub
        except BaseException:
            with contextlib.suppress(redis.RedisError, OSError):
                await _close(pubsub)
            raise

    async def _read_forever(self, pubsub: redis.client.PubSub | None) -> None:
        failures = 0
        while True:
            try:
                if pubsub is None:
                    pubsub = await self._subscribed()
                    failures = 0
                    log.warning("subscribed to Redis again; re-checking every socket")
                    with contextlib.suppress(redis.RedisError, OSError):
                        await self._publish_unsent()
                    await self._tell_watchers(linked=True)
                while True:
                    # A bounded wait, so the idle link is health-checked (pinged) regularly.
                    message = await pubsub.get_message(timeout=_HEALTH_CHECK_SECONDS)
                    if message is not None and message["type"] == "message":
                        await self._deliver(message["data"])
            except (redis.RedisError, OSError, TimeoutError):
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        await _close(pubsub)
                    pubsub = None
                    await self._tell_watchers(linked=False)
                delay = min(self._first_retry * 2 ** min(failures, 16),
                            max(_MAX_RETRY_SECONDS, self._first_retry))
                failures += 1
                log.warning("lost the Redis subscription; retrying in %.1fs", delay)
                await asyncio.sleep(delay)

    async def _tell_watchers(self, *, linked: bool) -> None:
        for watcher in self._watchers:
            try:
                await watcher(linked)
            except Exception:
                log.exception("a Redis link watcher failed")

    async def _deliver(self, data: bytes) -> None:
        try:
            event = EVENT_ADAPTER.validate_json(data)
        except ValidationError:
            log.warning("ignored a malformed event on %s", self._channel)
            return
        await self._deliver_event(event)

    async def _deliver_event(self, event: Event) -> None:
        for listener in self._listeners:
            await listener(event)


async def _close(pubsub: redis.client.PubSub) -> None:
    """``PubSub.aclose()``, which redis-py types in some releases and not in others."""
    await cast(Any, pubsub).aclose()
