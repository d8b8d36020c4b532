"""How a serving process writes its logs: one format for every line, text or JSON.

``FRONTDESK_LOG_FORMAT=text`` (the default) writes ``LEVEL logger message``; ``json`` writes
one JSON object a line with ``time``, ``level``, ``logger``, ``message`` and, inside a request,
its ``request_id``; access lines add ``method``, ``route``, ``status``, ``duration_ms`` and
``client``. Access lines carry a route template or a path, never a query string, so the
tokens a client may put there stay out of the log; so do WebSocket frames, which the
WebSocket library would dump at debug level.
"""

from __future__ import annotations

import contextvars
import logging
import time
from typing import Any

import orjson

ACCESS_LOGGER = "frontdesk.access"
# Arguments of an access line, in order (see access.RequestObserver).
ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "client", "request_id")
ACCESS_MESSAGE = '%s %s %d %.1fms client=%s id=%s'

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "frontdesk_request_id", default=None
)

# The WebSocket library's debug dumps of frames ("< TEXT '…'" received, "> TEXT '…'" sent:
# message texts, tokens in authenticate frames) and of handshake headers (cookies).
_WEBSOCKET_DUMPS = frozenset({"< %s", "> %s", "< %s: %s", "> %s: %s"})


class _TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = request_id.get()
        if rid is not None and record.name != ACCESS_LOGGER:
            line += f" id={rid}"
        return line


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple):
            entry["message"] = "request"
            entry.update(zip(ACCESS_FIELDS, record.args, strict=True))
        else:
            entry["message"] = record.getMessage()
            rid = request_id.get()
            if rid is not None:
                entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class DropWebSocketDumps(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.DEBUG and record.msg in _WEBSOCKET_DUMPS)


def configure_logging(level: str, log_format: str) -> None:
    """Send every logger's lines to stderr in ``log_format`` at ``level`` and above: the
    checked values of ``Settings.log_format`` and ``Settings.log_level``."""
    handler = _StreamHandler()
    handler.setFormatter(_JsonFormatter() if log_format == "json" else _TextFormatter())
    handler.addFilter(DropWebSocketDumps())
    root = logging.getLogger()
    root.setLevel(level.upper())
    for old in [h for h in root.handlers if isinstance(h, _StreamHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    # uvicorn's loggers write through the root handler, in the same format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Its access lines would repeat ours, with the query string.
    logging.getLogger("uvicorn.access").disabled = True


class _StreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs; configuring again replaces it."""
