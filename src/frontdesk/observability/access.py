"""``RequestObserver``: the one ASGI layer that names, logs and counts every request.

Every HTTP request and WebSocket gets a request id: the ``X-Request-ID`` a trusted proxy
sent, if it is sane (``_SANE_ID``), else a new one: 32 hex digits, a random prefix drawn once
per process and a counter, so ids stay unique without drawing random bytes per request. The
answer carries it back in ``X-Request-ID``, log lines written while the request runs carry
it, and when the request ends one access line is written: method, route template (or path,
never the query string), status, duration, client address and id. With metrics on, the
request is counted by method, route template and status. A WebSocket's line is written when
it closes, with 101 if it was accepted.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontdesk.client_address import PEER, TrustedProxies
from frontdesk.observability.logs import ACCESS_LOGGER, ACCESS_MESSAGE, request_id
from frontdesk.observability.metrics import Metrics

access_log = logging.getLogger(ACCESS_LOGGER)

_SANE_ID = re.compile(rb"[A-Za-z0-9._:=+/-]{1,128}")
_HEADER = b"x-request-id"
_UNMATCHED = "unmatched"
_LONGEST_LOGGED_PATH = 200
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count()


class RequestObserver:
    def __init__(
        self, app: ASGIApp, *, trusted_proxies: TrustedProxies, metrics: Metrics | None
    ) -> None:
        """``metrics``: where requests are counted; None when metrics are off."""
        self.app = app
        self._trusted = trusted_proxies
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        peer = scope.get("client")
        client = peer[0] if peer else "-"
        # The direct peer decides whether an X-Request-ID is believed; ``client`` is already
        # the forwarded client when a trusted proxy named one (frontdesk.client_address).
        direct = scope.get(PEER) or peer
        rid = self.request_id_for(scope, direct[0] if direct else "")
        token = request_id.set(rid)
        status = 0
        header = (_HEADER, rid.encode("ascii"))

        async def send_observed(message: Message) -> None:
            nonlocal status
            message_type = message["type"]
            if message_type == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            elif message_type == "websocket.accept":
                status = 101
                message["headers"] = [*message.get("headers", ()), header]
            elif message_type == "websocket.http.response.start":
                status = message["status"]
            elif message_type == "websocket.close" and status == 0:
                status = 403  # closed before accepting: the server refuses the handshake
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except BaseException:
            status = status or 500
            raise
        finally:
            request_id.reset(token)
            self.record(scope, kind, status, time.perf_counter() - started, client, rid)

    def request_id_for(self, scope: Scope, peer: str) -> str:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        for name, value in headers:
            if name == _HEADER:
                if _SANE_ID.fullmatch(value) and peer and self._trusted.trusts_host(peer):
                    return value.decode("ascii")
                break
        return f"{_ID_PREFIX}{next(_id_counter):016x}"

    def record(
        self, scope: Scope, kind: str, status: int, seconds: float, client: str, rid: str
    ) -> None:
        route = _template(scope.get("route"))
        method = scope.get("method", "GET")
        if self._metrics is not None and kind == "http":
            self._metrics.observe_request(method, route, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            shown = route if route != _UNMATCHED else scope["path"][:_LONGEST_LOGGED_PATH]
            access_log.info(ACCESS_MESSAGE, method, shown, status, seconds * 1000, client, rid)


def _template(route: Any) -> str:
    """The path template of the route that served a request (``unmatched`` if none did)."""
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return _UNMATCHED
    if getattr(route, "routes", None) is not None:  # a mount: the rest of the path is free
        return path + "/{path}"
    return path
