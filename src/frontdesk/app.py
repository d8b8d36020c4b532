"""``create_app(settings)``: the ASGI application. Nothing is built at import time."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from frontdesk.actions.outbox import OutboxWorker
from frontdesk.api.dispatch import IndexedRouter
from frontdesk.api.files import file_routes
from frontdesk.api.front import PAGE_PREFIXES, HttpFront
from frontdesk.api.meta import metrics_routes
from frontdesk.api.openapi import build_openapi
from frontdesk.api.routing import error_response, to_route
from frontdesk.api.table import all_endpoints
from frontdesk.api.websocket import (
    SocketFront,
    keep_tokens_out_of_server_logs,
    serve_socket,
    websocket_routes,
)
from frontdesk.auth.passwords import Passwords
from frontdesk.auth.secret_box import SecretBox
from frontdesk.auth.tokens import SessionTokens
from frontdesk.client_address import ClientAddressMiddleware, TrustedProxies
from frontdesk.clock import Clock, SystemClock
from frontdesk.dashboard import dashboard_routes
from frontdesk.demo import banner, ensure_demo
from frontdesk.demo_site import demo_site_routes
from frontdesk.errors import FrontdeskError, MethodNotAllowed, NotFound, RateLimited
from frontdesk.extras import import_extra
from frontdesk.ids import IdGenerator, RandomIds
from frontdesk.observability.access import RequestObserver
from frontdesk.observability.metrics import CountingBroker, Metrics
from frontdesk.observability.readiness import Readiness
from frontdesk.realtime.broker import Broker, InMemoryBroker
from frontdesk.realtime.hub import Hub
from frontdesk.services import Services
from frontdesk.settings import Settings
from frontdesk.storage.database import open_database
from frontdesk.storage.migrate import migrate
from frontdesk.widget import widget_routes

log = logging.getLogger("frontdesk")

class _TrailingSlash:
    """For WebSockets: API paths with or without a trailing slash (see api.front)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] in ("http", "websocket")
            and len(path) > 1
            and path.endswith("/")
            and not path.startswith(PAGE_PREFIXES)
        ):
            scope = dict(scope, path=path.rstrip("/") or "/")
        await self.app(scope, receive, send)


async def _frontdesk_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FrontdeskError)
    if isinstance(exc, RateLimited):
        request.app.state.metrics.refused("http", exc.code)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(NotFound(f"no route {request.method} {request.url.path}",
                                       code="route_not_found"))
    if exc.status_code == 405:
        allow = ", ".join(_methods_of(request))
        return error_response(MethodNotAllowed(
            f"{request.method} is not allowed on {request.url.path}; use {allow}",
            headers={"Allow": allow}))
    error = FrontdeskError(str(exc.detail), code="http_error")
    response = error_response(error)
    response.status_code = exc.status_code
    return response


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _methods_of(request: Request) -> list[str]:
    """Every method some route serves on the request's path (Starlette's own 405 names only
    those of the first route that matched the path)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods, key=lambda m: (*_METHOD_ORDER, m).index(m))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(FrontdeskError("internal error; it has been logged"))


def _broker_for(settings: Settings) -> Broker:
    if settings.redis_url:
        import_extra("redis", extra="redis", wanted_by="FRONTDESK_REDIS_URL")
        from frontdesk.realtime.redis_broker import RedisBroker

        return RedisBroker(
            settings.redis_url,
            settings.redis_channel,
            first_retry=settings.redis_resubscribe_delay,
        )
    return InMemoryBroker()


class _App(Starlette):
    """Starlette whose plain HTTP requests take one layer, ``HttpFront``, instead of its
    middleware stack, and ``/ws`` sockets another, ``SocketFront``; other WebSockets and the
    lifespan take the stack."""

    def __init__(
        self,
        *,
        routes: list[BaseRoute],
        lifespan: Any,
        trusted_proxies: TrustedProxies,
        metrics: Metrics | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.router = IndexedRouter(routes, lifespan=lifespan)
        self.trusted_proxies = trusted_proxies
        self.observed_metrics = metrics

    def build_middleware_stack(self) -> ASGIApp:
        handlers = self.exception_handlers
        sockets = SocketFront(
            super().build_middleware_stack(),
            observer=RequestObserver(
                serve_socket, trusted_proxies=self.trusted_proxies, metrics=self.observed_metrics
            ),
        )
        front: ASGIApp = HttpFront(
            self.router,
            others=sockets,
            observer=RequestObserver(
                self.router, trusted_proxies=self.trusted_proxies, metrics=self.observed_metrics
            ),
            cors=CORSMiddleware(self.router, **_CORS),
            handle_error=handlers[FrontdeskError],
            handle_http=handlers[HTTPException],
            handle_unexpected=handlers[Exception],
        )
        # Without trusted proxies the direct peer is the client, as the server reports it.
        if self.trusted_proxies:
            front = ClientAddressMiddleware(front, self.trusted_proxies)
        return front


_CORS: dict[str, Any] = {
    "allow_origins": ["*"],
    "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    "allow_headers": ["Authorization", "Content-Type", "X-Frontdesk-Anonymous-Token"],
    "expose_headers": ["Retry-After", "X-Request-ID"],
    "max_age": 600,
}


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    broker: Broker | None = None,
    extra_routes: list[BaseRoute] | None = None,
) -> Starlette:
    """The application for ``settings``; the database opens (and migrates) at startup."""
    settings = settings.with_secret()
    clock = clock or SystemClock()
    endpoints = all_endpoints()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        keep_tokens_out_of_server_logs()
        db = await open_database(settings.effective_database_url,
                                 pool_size=settings.database_pool_size)
        await migrate(db)
        events = broker or _broker_for(settings)
        if settings.metrics:  # counted only where /metrics can show the count
            events = CountingBroker(events, metrics)
        services = Services(
            settings=settings,
            db=db,
            clock=clock,
            ids=ids or RandomIds(),
            tokens=SessionTokens(settings.secret, clock),
            passwords=Passwords(
                memory_kib=settings.password_hash_memory_kib,
                time_cost=settings.password_hash_time_cost,
                concurrency=settings.password_hash_concurrency,
                queue=settings.password_hash_queue,
            ),
            secret_box=SecretBox(settings.secret),
            broker=events,
            metrics=metrics,
        )
        app.state.services = services
        await services.broker.start()
        hub = Hub(services)
        app.state.hub = hub
        await hub.start()
        outbox = OutboxWorker(services)
        outbox.start()
        metrics.watch(websockets=lambda: hub.connection_count, db=db)
        app.state.readiness = Readiness(db, settings.redis_url, settings.ready_timeout)
        if settings.demo:
            info = await ensure_demo(services)
            app.state.demo = info
            print(banner(info, settings.base_url), flush=True)
        try:
            yield {}
        finally:
            await outbox.close()
            await hub.close()
            await app.state.readiness.close()
            await services.broker.close()
            await services.limits.close()
            await services.visitor_presence.close()
            await db.close()
            services.passwords.close()

    # Pages first, so no /{pid}/… API pattern can claim a dashboard path.
    routes: list[BaseRoute] = dashboard_routes() + [to_route(e) for e in endpoints]
    routes += file_routes() + widget_routes() + websocket_routes()
    if settings.demo:
        routes += demo_site_routes()
    if settings.metrics:
        routes += metrics_routes()
    trusted_proxies = TrustedProxies.parse(settings.trusted_proxies)
    observed = metrics if settings.metrics else None
    app = _App(
        routes=routes + (extra_routes or []),
        lifespan=lifespan,
        # What other WebSockets pass (HttpFront and SocketFront do the same for HTTP requests
        # and /ws).
        middleware=[
            Middleware(_TrailingSlash),
            # Inside _TrailingSlash, which copies the scope: the router names the route it
            # matched in the scope this layer sees.
            Middleware(RequestObserver, trusted_proxies=trusted_proxies, metrics=observed),
            Middleware(CORSMiddleware, **_CORS),
        ],
        exception_handlers={
            FrontdeskError: _frontdesk_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        trusted_proxies=trusted_proxies,
        metrics=observed,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.endpoints = endpoints
    # Built when first asked for: generating the schemas takes over a tenth of a second, which
    # every process start (and every command or test that makes an app) would otherwise pay.
    app.state.openapi = functools.cache(
        functools.partial(build_openapi, endpoints, settings.base_url)
    )
    return app
