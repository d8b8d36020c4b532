"""This process's Prometheus metrics, served at ``GET /metrics`` when ``FRONTDESK_METRICS`` is on.

Each app has a registry of its own, so nothing is registered at import time. Labels come only
from route templates, methods, status codes, error codes and event types: never an id, a token
or an e-mail address. Each process serves its own numbers (Prometheus sums them per job).

    frontdesk_http_requests_total{method,route,status}           counter
    frontdesk_http_request_duration_seconds{method,route,status} histogram
    frontdesk_websocket_connections                              gauge
    frontdesk_events_published_total{type}                       counter
    frontdesk_rate_limit_refusals_total{transport,code}          counter
    frontdesk_db_pool_connections{state}                         gauge (PostgreSQL only)
    process_*                                                    CPU, memory, open files
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from frontdesk.realtime.broker import Broker, LinkWatcher, Listener
from frontdesk.realtime.events import Event

if TYPE_CHECKING:
    from frontdesk.storage.database import Database

CONTENT_TYPE = CONTENT_TYPE_LATEST
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """Counters the server updates as it works, and gauges read when scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "frontdesk_http_requests", "HTTP requests answered, by route template and status.",
            ("method", "route", "status"), registry=self.registry,
        )
        self._durations = Histogram(
            "frontdesk_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its answer.",
            ("method", "route", "status"), registry=self.registry,
        )
        self._events = Counter(
            "frontdesk_events_published", "Realtime events this process published, by type.",
            ("type",), registry=self.registry,
        )
        self._refusals = Counter(
            "frontdesk_rate_limit_refusals",
            "Requests, sign-ins, sockets and frames refused by a limit, by transport and code.",
            ("transport", "code"), registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        # (method, route, status) → its counter and histogram children: labels() takes a lock
        # and builds a key each time; a request only needs a dict lookup.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in _METHODS:  # a client's own verb would be a new series each
            method = "other"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = (self._requests.labels(*labels), self._durations.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def event_published(self, event: Event) -> None:
        self._events.labels(event.type).inc()

    def refused(self, transport: str, code: str) -> None:
        self._refusals.labels(transport, code).inc()

    def watch(self, *, websockets: Callable[[], int], db: Database) -> None:
        """Read the open WebSocket count and the database pool whenever metrics are scraped."""
        self.registry.register(_LiveGauges(websockets, db))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _LiveGauges(Collector):
    def __init__(self, websockets: Callable[[], int], db: Database) -> None:
        self._websockets = websockets
        self._db = db

    def collect(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "frontdesk_websocket_connections", "Open WebSocket connections in this process.",
            value=self._websockets(),
        )
        pool = getattr(self._db, "pool", None)
        if pool is not None:
            family = GaugeMetricFamily(
                "frontdesk_db_pool_connections",
                "PostgreSQL pool connections: open (in use or idle), idle, and the most allowed.",
                labels=("state",),
            )
            family.add_metric(("open",), pool.get_size())
            family.add_metric(("idle",), pool.get_idle_size())
            family.add_metric(("max",), pool.get_max_size())
            yield family


class CountingBroker:
    """A broker that counts what this process publishes, then hands it on."""

    def __init__(self, inner: Broker, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def publish(self, event: Event) -> None:
        self._metrics.event_published(event)
        await self._inner.publish(event)

    def subscribe(self, listener: Listener) -> None:
        self._inner.subscribe(listener)

    def watch_link(self, watcher: LinkWatcher) -> None:
        self._inner.watch_link(watcher)

    async def start(self) -> None:
        await self._inner.start()

    async def close(self) -> None:
        await self._inner.close()
