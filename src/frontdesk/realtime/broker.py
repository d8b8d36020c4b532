"""Brokers carry committed events to every server process's hub.

``InMemoryBroker`` serves one process. ``RedisBroker`` (see ``redis_broker``) serves several.

A broker linked to other processes tells its link watchers when the link drops (False) and
when it is back (True): events published meanwhile were lost to this process, so what they
would have revoked must be checked again (see ``Hub.recheck_all``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from frontdesk.realtime.events import Event

Listener = Callable[[Event], Awaitable[None]]
LinkWatcher = Callable[[bool], Awaitable[None]]


class Broker(Protocol):
    async def publish(self, event: Event) -> None: ...

    def subscribe(self, listener: Listener) -> None: ...

    def watch_link(self, watcher: LinkWatcher) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class InMemoryBroker:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    async def publish(self, event: Event) -> None:
        for listener in self._listeners:
            await listener(event)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def watch_link(self, watcher: LinkWatcher) -> None:
        return None  # one process: there is no link to lose

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._listeners.clear()
