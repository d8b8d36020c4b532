"""How ``frontdesk serve`` runs uvicorn: the HTTP protocol and its connection limits.

uvicorn's own knobs cover the idle time between two requests on a kept-alive connection
(``timeout_keep_alive``). With httptools it has no bound on the size of a request's headers
(httptools re-buffers a growing header value, so an endless one stalls the process; uvicorn's
``h11_max_incomplete_event_size`` applies to its slower pure-Python h11 parser only), no
deadline for receiving them, none for a stalled body or unread answers, and it accepts every
connection it is offered. ``GuardedHttpProtocol`` adds those limits to uvicorn's httptools
protocol, so a server reached without a proxy in front is safe from slow and endless clients:

- header bytes: counted as they arrive, before the parser buffers them; past
  ``http_max_header_bytes`` the request is answered 431 ``headers_too_large`` and closed;
- header time: from the moment a connection opens, or the first byte of a request on a
  kept-alive one, the headers must be complete within ``http_header_timeout`` seconds, else
  408 ``request_timeout`` and close (a connection that sent nothing is closed silently);
- body idle time: a request whose body stops arriving for ``http_body_idle_timeout`` seconds is
  answered 408 ``request_timeout`` (if no answer has started) and closed; a connection whose
  client stops reading its answers for as long is dropped;
- pipelining: past ``MAX_PIPELINED_REQUESTS`` requests waiting on one connection, the
  waiting ones are answered and the connection closed, nothing more read;
- open connections: past ``http_max_connections`` (HTTP and WebSocket alike) a new connection
  is answered 503 ``too_many_connections`` and closed at once, before anything is read; past
  ``http_max_connections_per_ip`` from one address, 429 ``too_many_connections_per_address``
  (connections from a trusted proxy, ``trusted_proxies``, are not counted per address: the
  client is not known before the headers are read, and the proxy carries many).

A WebSocket upgrade goes through this protocol too: its headers obey the same limits, and the
timers stop when the connection is handed to the WebSocket protocol.

Stopping (SIGTERM) is graceful: the process stops listening, answers every request it has
accepted — one whose bytes are still on their way on a fresh connection too, for
``SHUTDOWN_IDLE_GRACE`` seconds, since a proxy sends its request right after connecting — with
``Connection: close``, waits at most ``shutdown_timeout`` seconds for them, and closes its
WebSockets with 1001 ``server_shutdown`` (``GoingAwayWebSocketProtocol``), which clients take
as "reconnect (to another process) and resume".
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import resource
import time
from asyncio import TimerHandle
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from frontdesk.client_address import TrustedProxies
from frontdesk.errors import (
    FrontdeskError,
    HeadersTooLarge,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
)
from frontdesk.realtime.protocol import CloseCode
from frontdesk.settings import Settings

logger = logging.getLogger("frontdesk.server")

# Requests a client may send ahead on one connection, waiting to be answered in turn. Past
# it the queued ones are answered and the connection closed: each waiting request holds its
# parsed headers, so one read of tiny pipelined requests would otherwise queue thousands.
MAX_PIPELINED_REQUESTS = 16

# Seconds an idle connection is kept once the process is stopping: a request already sent on
# it (a proxy connects and sends at once) is answered instead of the connection closed under it,
# which a proxy reports as 502 without trying another process for a POST.
SHUTDOWN_IDLE_GRACE = 1.0

# Descriptors a serving process needs besides its client connections: database and Redis
# connections, the listening socket, log and data files, the event loop's own.
_FILES_BESIDES_CONNECTIONS = 128

# What a connection's timer is watching (GuardedHttpProtocol.watching).
_HEADERS = "headers"
_BODY = "body"


@dataclasses.dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    header_timeout: float
    body_idle_timeout: float
    max_connections: int
    max_connections_per_ip: int
    trusted_proxies: TrustedProxies

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_header_bytes=settings.http_max_header_bytes,
            header_timeout=settings.http_header_timeout,
            body_idle_timeout=settings.http_body_idle_timeout,
            max_connections=settings.http_max_connections,
            max_connections_per_ip=settings.http_max_connections_per_ip,
            trusted_proxies=TrustedProxies.parse(settings.trusted_proxies),
        )


@functools.cache
def _limits_from_environment() -> ConnectionLimits:
    # Read where the app factory (frontdesk.asgi) reads its settings: each serving process,
    # the one ``serve`` runs or a worker it spawns, imports this module afresh.
    return ConnectionLimits.from_settings(Settings.from_env())


def raise_open_file_limit(settings: Settings) -> None:
    """Raise this process's soft open-file limit, within its hard limit, so that the
    connection cap fits under it with room for database connections and files; warn when the
    hard limit is too low. Worker processes inherit the raised limit.

    Past the limit, accepting fails and the server stops accepting anyone for a while; under
    it, the cap answers 503 and everyone else is still served.
    """
    needed = settings.http_max_connections + _FILES_BESIDES_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        logger.warning(
            "the open-file limit (%d) is below FRONTDESK_HTTP_MAX_CONNECTIONS (%d) plus %d for"
            " the database and files: lower the setting or raise the limit (ulimit -n)",
            target, settings.http_max_connections, _FILES_BESIDES_CONNECTIONS,
        )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` that put the connection limits in force.

    The protocol reads its limits from the environment, as the app does, so ``settings`` must
    be the environment's (plus command-line options, which do not touch these limits).
    """
    return {
        "http": GuardedHttpProtocol,
        "ws": GoingAwayWebSocketProtocol,
        "ws_max_size": settings.ws_max_frame_bytes,
        "timeout_keep_alive": settings.http_keep_alive_timeout,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "proxy_headers": False,
        "access_log": False,  # the app writes one line per request (observability.access)
    }


_last_refusal_logged = 0.0


def _log_refusal(refusal: FrontdeskError) -> None:
    # At most once a second: a flood of refused connections must not become a flood of logs.
    global _last_refusal_logged
    now = time.monotonic()
    if now - _last_refusal_logged >= 1.0:
        _last_refusal_logged = now
        logger.warning("refusing connections: %s", refusal.code)


def error_response(error: FrontdeskError, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The bytes of a complete JSON error answer that closes the connection."""
    body = orjson.dumps(error.to_json())
    head = [STATUS_LINE[error.status]]
    for name, value in default_headers:
        head.append(name + b": " + value + b"\r\n")
    head.append(b"content-type: application/json\r\n")
    head.append(b"content-length: " + str(len(body)).encode("ascii") + b"\r\n")
    head.append(b"connection: close\r\n\r\n")
    return b"".join(head) + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size, header time, body idle and connection
    count limits (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = _limits_from_environment()
        self.reading_headers = True
        self.header_bytes = 0
        self.refused = False
        self.pipeline_full = False
        # The header and body deadlines never overlap: one timer serves both, re-armed only
        # when it would fire too late, so a request does not create and cancel timers.
        self.watching: str | None = None  # _HEADERS, _BODY or nothing
        self.deadline = 0.0
        self.timer: TimerHandle | None = None
        self.send_timer: TimerHandle | None = None
        self.unsent = 0
        self.stopping = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        refusal = self._over_capacity()
        if refusal is not None:
            _log_refusal(refusal)
            self._refuse(refusal)
            return
        self._start_header_timer()

    def _over_capacity(self) -> FrontdeskError | None:
        """Why this new connection is one too many, if it is (it is counted already)."""
        if len(self.connections) > self.guard.max_connections:
            return ServiceUnavailable(
                "The server has too many open connections; try again shortly.",
                code="too_many_connections",
            )
        per_ip = self.guard.max_connections_per_ip
        if (
            per_ip and self.client is not None and len(self.connections) > per_ip
            # A trusted proxy carries many clients; its connections count against the total.
            and not self.guard.trusted_proxies.trusts_host(self.client[0])
        ):
            address = self.client[0]
            same = sum(
                1 for other in self.connections
                if (getattr(other, "client", None) or ("",))[0] == address
            )
            if same > per_ip:
                return RateLimited(
                    "Too many open connections from your address; close some first.",
                    code="too_many_connections_per_address",
                )
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        self._stop_send_timer()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        self._watch_sending()

    def resume_writing(self) -> None:
        self._stop_send_timer()
        super().resume_writing()

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing() or self.pipeline_full:
            return  # once the pipeline is full, what else comes is not read
        if self.reading_headers:
            self._start_header_timer()
            self.header_bytes += len(data)
        super().data_received(data)
        if self._headers_too_large():
            self._refuse(HeadersTooLarge(
                f"Request headers exceed {self.guard.max_header_bytes} bytes."
            ))

    def _headers_too_large(self) -> bool:
        """Whether the request being read is to be refused for the size of its headers.

        Headers still incomplete after a read are counted by the bytes received, so the
        parser never buffers more than the limit plus one read (a few hundred KiB at most);
        complete ones are measured in on_headers_complete.
        """
        if self.transport.is_closing() or self.pipeline_full:
            return False
        incomplete = self.reading_headers and self.header_bytes > self.guard.max_header_bytes
        return incomplete or self.refused

    def on_headers_complete(self) -> None:
        self.reading_headers = False
        self._stop_header_timer()
        busy = self.cycle is not None and not self.cycle.response_complete
        if self.pipeline_full or (busy and len(self.pipeline) >= MAX_PIPELINED_REQUESTS):
            # This and later requests are ignored; the last one taken is answered, then close.
            self.pipeline_full = True
            self.cycle.keep_alive = False
            return
        if self._header_size() > self.guard.max_header_bytes:
            self.refused = True  # answered by data_received once the parser returns
            return
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = _OneSegmentAnswer(self.cycle)  # type: ignore[assignment]
        if self.stopping and self.cycle is not None:
            self.cycle.keep_alive = False  # answered, then closed: the process is stopping
        upgrading = self.parser.should_upgrade() and self._should_upgrade()
        if upgrading:
            self._stop_timer()  # the connection is the WebSocket protocol's from here
        elif self._expects_body():
            self._start_body_timer()

    def on_body(self, body: bytes) -> None:
        if self.refused or self.pipeline_full:
            return
        if self.watching == _BODY:
            self._start_body_timer()
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self.refused or self.pipeline_full:
            return
        self._stop_body_timer()
        self.reading_headers = True
        self.header_bytes = 0
        super().on_message_complete()

    def shutdown(self) -> None:
        """The server is stopping: answer what was sent on this connection, then close it."""
        self.stopping = True
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
        elif self.header_bytes == 0:
            self.loop.call_later(SHUTDOWN_IDLE_GRACE, self._close_if_idle)
        # else a request's headers are arriving: on_headers_complete marks it the last one

    def _close_if_idle(self) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self.header_bytes == 0 and not self.transport.is_closing():
            self.transport.close()

    def _should_upgrade(self) -> bool:
        return not (self.refused or self.pipeline_full) and super()._should_upgrade()

    def _unsupported_upgrade_warning(self) -> None:
        if not (self.refused or self.pipeline_full):  # answered otherwise
            super()._unsupported_upgrade_warning()

    def _header_size(self) -> int:
        """Bytes of the request line and headers as parsed (surrounding spaces trimmed)."""
        request_line = len(self.parser.get_method()) + len(self.url) + len(b"  HTTP/1.1\r\n")
        fields = sum(len(name) + len(value) + len(b": \r\n") for name, value in self.headers)
        return request_line + fields + len(b"\r\n")

    def _expects_body(self) -> bool:
        for name, value in self.headers:  # a loop, not any(...): this runs on every request
            if name == b"transfer-encoding" or (
                name == b"content-length" and value.strip() != b"0"
            ):
                return True
        return False

    def _start_header_timer(self) -> None:
        if self.watching != _HEADERS:  # from the first byte, not restarted by later ones
            self._watch(_HEADERS, self.guard.header_timeout)

    def _stop_header_timer(self) -> None:
        if self.watching == _HEADERS:
            self.watching = None

    def _start_body_timer(self) -> None:
        self._watch(_BODY, self.guard.body_idle_timeout)

    def _stop_body_timer(self) -> None:
        if self.watching == _BODY:
            self.watching = None

    def _watch(self, what: str, timeout: float) -> None:
        self.watching = what
        self.deadline = self.loop.time() + timeout
        if self.timer is None or self.timer.when() > self.deadline:
            if self.timer is not None:
                self.timer.cancel()
            self.timer = self.loop.call_at(self.deadline, self._timer_fired)

    def _stop_timer(self) -> None:
        self.watching = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _timer_fired(self) -> None:
        self.timer = None
        watched = self.watching
        if watched is None:
            return
        if self.loop.time() < self.deadline:  # moved on since the timer was set
            self.timer = self.loop.call_at(self.deadline, self._timer_fired)
            return
        self.watching = None
        if watched == _HEADERS:
            self._header_timed_out()
        else:
            self._body_timed_out()

    def _header_timed_out(self) -> None:
        if self.transport.is_closing() or not self.reading_headers:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request began while the previous one is still being answered.
            self._start_header_timer()
            return
        if self.header_bytes == 0:  # opened and never used, or idle after keep-alive
            self.transport.close()
            return
        self._refuse(RequestTimeout(
            f"Request headers were not complete within {self.guard.header_timeout:g} seconds."
        ))

    def _body_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
            # The server, not the client, is the one waiting: the app has not read yet.
            self._start_body_timer()
            return
        if cycle is not None and not cycle.response_started:
            error = RequestTimeout(
                f"The request body stalled for {self.guard.body_idle_timeout:g} seconds."
            )
            self.transport.write(error_response(error, self.server_state.default_headers))
        self.transport.close()

    def _watch_sending(self) -> None:
        self._stop_send_timer()
        self.unsent = self.transport.get_write_buffer_size()
        self.send_timer = self.loop.call_later(self.guard.body_idle_timeout, self._send_timed_out)

    def _stop_send_timer(self) -> None:
        if self.send_timer is not None:
            self.send_timer.cancel()
            self.send_timer = None

    def _send_timed_out(self) -> None:
        self.send_timer = None
        if self.transport.is_closing():
            return
        if self.transport.get_write_buffer_size() < self.unsent:  # read, if slowly
            self._watch_sending()
            return
        # The client stopped reading its answers: nothing more can be sent to it, so the
        # connection is dropped rather than flushed.
        self.transport.abort()

    def _refuse(self, error: FrontdeskError) -> None:
        self._stop_header_timer()
        self._stop_body_timer()
        self.transport.write(error_response(error, self.server_state.default_headers))
        self.transport.close()


class _OneSegmentAnswer:
    """The transport one request's cycle writes its answer to: the status line and headers
    wait for the body's first write and leave with it, in one write.

    uvicorn writes them separately, so a small JSON answer left in two TCP segments (two
    system calls, two trips through the loopback or network stack, two wake-ups of the
    client). Held headers go out at the end of the event loop's turn at the latest, for an
    app that starts an answer and takes its time with the body. Everything else (``close``,
    ``is_closing`` …, and a ``100 Continue`` written before the answer starts) goes straight
    to the connection's transport.
    """

    __slots__ = ("_cycle", "_held", "_started", "_transport")

    def __init__(self, cycle: Any) -> None:
        self._cycle = cycle
        self._transport: asyncio.Transport = cycle.transport
        self._held: bytes | None = None
        self._started = False  # the header block went through here

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif not self._started and self._cycle.response_started:
            # The cycle marks its answer started, then writes the header block.
            self._started = True
            self._held = data
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


# Compression without context takeover either way: each message is compressed, and
# decompressed, on its own, so no socket keeps zlib state between messages. uvicorn's own offer
# keeps a compressor and a decompressor per socket for as long as it is open, and every frame
# sent (a heartbeat too) makes the compressor's buffers resident: tens of KiB per idle socket.
# Large frames (a snapshot, a replay) still compress; small ones lose only what an earlier
# message would have taught the compressor. The same window and memory level as uvicorn's.
_DEFLATE = [
    ServerPerMessageDeflateFactory(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=12,
        client_max_window_bits=12,
        compress_settings={"memLevel": 5},
    )
]


class GoingAwayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, closing with 1001 ``server_shutdown`` when the process
    stops (uvicorn's own says 1012): the code the hub uses for the same thing, on which the
    widget and dashboard reconnect and resume. It offers permessage-deflate without context
    takeover (``_DEFLATE``)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if config.ws_per_message_deflate:
            self.conn.available_extensions = _DEFLATE

    def shutdown(self) -> None:
        if self.close_sent or not self.handshake_complete:
            super().shutdown()
            return
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": CloseCode.GOING_AWAY})
        self.conn.send_close(CloseCode.GOING_AWAY, "server_shutdown")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
