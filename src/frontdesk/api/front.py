"""``HttpFront``: the one ASGI layer every plain HTTP request passes before the router.

Starlette would run each HTTP request through five layers, each wrapping ``send`` in a closure
of its own: its server-error middleware, the trailing-slash rewrite, the request observer,
CORS, its exception middleware, and the endpoint's own exception wrapper. Together they cost a
message about a tenth of its CPU. This layer does the same work in one function:

- API paths are matched with or without a trailing slash (pages keep theirs);
- a route that fully matches is called directly (``IndexedRouter.resolve``), anything else
  (405, redirect, 404) goes through the router;
- the request is named, logged and counted as ``observability.access.RequestObserver``
  does (the request id travels in ``X-Request-ID`` and in the log lines);
- CORS answers as Starlette's ``CORSMiddleware`` configured in ``app.py`` does: a preflight
  gets its answer, every other answer ``Vary: Origin``, plus the allow and expose headers when
  the request names an origin;
- a ``FrontdeskError`` or ``HTTPException`` from the router or an endpoint becomes its JSON
  answer through the app's exception handlers; anything else is answered 500 (without the
  request id and CORS headers, as Starlette's outermost layer answered it) and raised again,
  so the server logs it.

WebSockets and the lifespan go through Starlette's own middleware stack unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontdesk.client_address import PEER
from frontdesk.errors import FrontdeskError
from frontdesk.observability.access import RequestObserver
from frontdesk.observability.logs import request_id

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]

# Pages keep their trailing slash; API paths are matched with or without one, because
# Tiledesk clients call e.g. PATCH /:pid/requests/:rid/ and PUT /:pid/project_users/.
PAGE_PREFIXES = ("/dashboard", "/widget", "/demo", "/static")

_CORS_NAMES = (b"vary", b"access-control-allow-origin", b"access-control-expose-headers")


class HttpFront:
    def __init__(
        self,
        router: ASGIApp,
        *,
        others: ASGIApp,
        observer: RequestObserver,
        cors: CORSMiddleware,
        handle_error: ErrorHandler,
        handle_http: ErrorHandler,
        handle_unexpected: ErrorHandler,
    ) -> None:
        """``router`` serves HTTP requests, ``others`` every other scope; ``cors`` is only
        asked for its configuration and its preflight answers."""
        self.router = router
        # A router that can name the app serving a scope (dispatch.IndexedRouter) is asked
        # first, and that app is called without the router's and the route's frames.
        self.resolve: Callable[[Scope], ASGIApp | None] | None = getattr(router, "resolve", None)
        self.others = others
        self.observer = observer
        self.cors = cors
        self.handle_error = handle_error
        self.handle_http = handle_http
        self.handle_unexpected = handle_unexpected
        # What Starlette's own exception wrappers (around non-API routes) look up.
        self.handlers: tuple[dict[Any, ErrorHandler], dict[int, ErrorHandler]] = (
            {FrontdeskError: handle_error, HTTPException: handle_http}, {}
        )
        simple = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                  for k, v in cors.simple_headers.items()]
        self.with_origin = [*simple, (b"vary", b"Origin")]
        self.without_origin = [(b"vary", b"Origin")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.others(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path[-1] == "/" and not path.startswith(PAGE_PREFIXES):
            scope["path"] = path.rstrip("/") or "/"
        scope["starlette.exception_handlers"] = self.handlers
        started = time.perf_counter()
        peer = scope.get("client")
        client = peer[0] if peer else "-"
        direct = scope.get(PEER) or peer
        rid = self.observer.request_id_for(scope, direct[0] if direct else "")
        token = request_id.set(rid)
        origin = preflight = None
        for name, value in scope["headers"]:
            if name == b"origin" and origin is None:
                origin = value
            elif name == b"access-control-request-method":
                preflight = value
        is_preflight = origin is not None and preflight is not None and (
            scope["method"] == "OPTIONS")
        # A preflight answer is complete as CORSMiddleware builds it; others get its headers.
        cors = () if is_preflight else (
            self.without_origin if origin is None else self.with_origin)
        rid_header = (b"x-request-id", rid.encode("ascii"))
        status = 0

        async def send_answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = _with_cors(message.get("headers", ()), cors)
                headers.append(rid_header)
                message["headers"] = headers
            await send(message)

        try:
            try:
                if is_preflight:
                    answer = self.cors.preflight_response(request_headers=Headers(scope=scope))
                    await answer(scope, receive, send_answer)
                else:
                    served = self.resolve(scope) if self.resolve is not None else None
                    await (served or self.router)(scope, receive, send_answer)
            except (FrontdeskError, HTTPException) as exc:
                if status:
                    raise RuntimeError(
                        "Caught handled exception, but response already started."
                    ) from exc
                handler = self.handle_error if isinstance(exc, FrontdeskError) else (
                    self.handle_http)
                answer = await handler(Request(scope, receive, send), exc)
                await answer(scope, receive, send_answer)
                exc.__traceback__ = None  # a reused exception would pile up tracebacks
        except BaseException as exc:
            request_id.reset(token)
            self.observer.record(scope, "http", status or 500, time.perf_counter() - started,
                                 client, rid)
            if isinstance(exc, Exception):
                answer = await self.handle_unexpected(Request(scope), exc)
                if not status:
                    await answer(scope, receive, send)
            raise
        request_id.reset(token)
        self.observer.record(scope, "http", status, time.perf_counter() - started, client, rid)


def _with_cors(headers: Any, cors: Any) -> list[tuple[bytes, bytes]]:
    """The answer's headers with ``cors`` merged in as Starlette's CORS middleware merges
    them: its headers replace those of the same name, ``Vary`` values add up."""
    answer: list[tuple[bytes, bytes]] = list(headers)
    if not cors or not any(name.lower() in _CORS_NAMES for name, _ in answer):
        answer += cors
        return answer
    merged = MutableHeaders(raw=answer)
    for name, value in cors:
        key = name.decode("latin-1")
        if name == b"vary":
            merged[key] = ", ".join([*merged.getlist(key), value.decode("latin-1")])
        else:
            merged[key] = value.decode("latin-1")
    raw: list[tuple[bytes, bytes]] = merged.raw
    return raw
