"""``/ws``: the one WebSocket endpoint of the dashboard and the widget (see realtime.hub).

A socket may carry its session token in the URL (``/ws?token=JWT …``). The server logs every
handshake with its path and query string, so the token is blanked out of those log lines
before any handler sees them: a log file must not hold bearer credentials.
"""

from __future__ import annotations

import logging
import re

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from frontdesk.realtime.hub import Hub

# The loggers uvicorn writes handshakes and requests to, with the query string in the arguments.
_SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")
_TOKEN_IN_QUERY = re.compile(r"([?&](?:token|access_token)=)[^&\s\"']*", re.IGNORECASE)


async def realtime_socket(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    await hub.serve(websocket)


def websocket_routes() -> list[BaseRoute]:
    return [WebSocketRoute("/ws", realtime_socket)]


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
