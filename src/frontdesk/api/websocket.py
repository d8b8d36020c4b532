"""``/ws``: the one WebSocket endpoint of the dashboard and the widget (see realtime.hub).

A socket may carry its session token in the URL (``/ws?token=JWT …``). The server logs every
handshake with its path and query string, so the token is blanked out of those log lines
before any handler sees them: a log file must not hold bearer credentials.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from frontdesk.observability.access import RequestObserver
from frontdesk.realtime.hub import Hub

# The loggers uvicorn writes handshakes and requests to, with the query string in the arguments.
_SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")
_TOKEN_IN_QUERY = re.compile(r"([?&](?:token|access_token)=)[^&\s\"']*", re.IGNORECASE)


async def realtime_socket(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    await hub.serve(websocket)


def websocket_routes() -> list[BaseRoute]:
    return [WebSocketRoute(PATH, realtime_socket)]


PATH = "/ws"


class SocketFront:
    """``/ws`` sockets straight to the hub, observed as every request is (request id, access
    line): not through Starlette's middleware stack and router, whose layers (server error,
    trailing slash, observer, CORS, exceptions, router, route, session wrappers: about twenty
    coroutines) every idle socket would otherwise keep suspended for as long as it is open.
    Every other scope (other WebSocket paths, the lifespan) goes to ``others``."""

    def __init__(self, others: ASGIApp, observer: RequestObserver) -> None:
        self.others = others
        self.observed = observer
        self.route = WebSocketRoute(PATH, realtime_socket)  # names the socket in its access line

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine function: the caller awaits what it returns, so this layer keeps no
        # frame of its own while the socket is open.
        if scope["type"] == "websocket" and scope["path"].rstrip("/") == PATH:
            scope["path"] = PATH  # with or without a trailing slash, as API paths
            scope["route"] = self.route
            return self.observed(scope, receive, send)
        return self.others(scope, receive, send)


def serve_socket(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
    """The ASGI app of one ``/ws`` socket (observed by ``SocketFront``)."""
    hub: Hub = scope["app"].state.hub
    return hub.serve(WebSocket(scope, receive, send))


class RedactTokens(logging.Filter):
    """Blanks ``token=…`` query parameters in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_tokens(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def redact_tokens(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


def keep_tokens_out_of_server_logs() -> None:
    """Install ``RedactTokens`` on the server's loggers, once however often it is called."""
    for name in _SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
