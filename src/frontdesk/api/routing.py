"""The route table: each endpoint declares its method, path, callers, body, query and response.

From this one table come the Starlette routes, the OpenAPI document and the tests that walk
every endpoint. Who may call an endpoint is declared here and enforced here, once, before its
handler runs: the handler receives a ``Call`` with the caller already checked (``call.access``
under a project, ``call.agent`` / ``call.caller`` elsewhere) and the input parsed and validated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from frontdesk import jsonutil
from frontdesk.actions.access import (
    ProjectAccess,
    access_project,
    authenticate,
    require_agent,
    require_principal,
)
from frontdesk.auth.principals import Agent, AgentRole, Principal
from frontdesk.errors import (
    Forbidden,
    FrontdeskError,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from frontdesk.ids import is_object_id
from frontdesk.services import Services

AuthMode = Literal["none", "required"]
# Who may get a 200: agents (members of the path's project with at least ``min_role``),
# visitors (of the path's project, as its policy allows), or anyone ("public").
CallerKind = Literal["agent", "visitor", "public"]
CALLER_KINDS: tuple[CallerKind, ...] = get_args(CallerKind)


@dataclass
class Call:
    """One call of an endpoint, its caller already admitted by the route table."""

    request: Request
    services: Services
    principal: Principal | None
    params: dict[str, str]
    body: Any
    query: Any
    admitted: ProjectAccess | None = None

    @property
    def client_ip(self) -> str:
        return client_ip(self.request)

    @property
    def access(self) -> ProjectAccess:
        """The caller's checked access to the path's project (endpoints under ``{pid}``)."""
        assert self.admitted is not None, "only endpoints under a project carry an access"
        return self.admitted

    @property
    def caller(self) -> Principal:
        """The signed-in caller (endpoints that are not public)."""
        assert self.principal is not None, "public endpoints have no caller"
        return self.principal

    @property
    def agent(self) -> Agent:
        """The calling agent (endpoints that only agents may call)."""
        assert isinstance(self.principal, Agent), "only agent-only endpoints have an agent"
        return self.principal


def client_ip(request: Request) -> str:
    """The address limits, audit events and sessions record: the client's, as
    ``client_address.ClientAddressMiddleware`` worked it out."""
    return request.client.host if request.client else "unknown"


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    auth: AuthMode
    body: Any = None
    query: type[BaseModel] | None = None
    response: Any = None
    allowed: tuple[CallerKind, ...] = ("agent",)
    min_role: AgentRole | None = None
    extra_statuses: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        # The table must not declare a rule it cannot enforce.
        where = f"{self.method} {self.path}"
        if not self.allowed or not set(self.allowed) <= set(CALLER_KINDS):
            raise ValueError(f"{where}: allowed must name some of {CALLER_KINDS}")
        if ("public" in self.allowed) != (self.auth == "none"):
            raise ValueError(f"{where}: public endpoints, and only they, take no credentials")
        if "public" in self.allowed and len(self.allowed) > 1:
            raise ValueError(f"{where}: a public endpoint admits everyone; name no one else")
        if self.min_role is not None and ("agent" not in self.allowed or not self.in_project):
            raise ValueError(f"{where}: min_role needs agents and a {{pid}} in the path")

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def in_project(self) -> bool:
        return "{pid}" in self.path

    async def admit(
        self, services: Services, principal: Principal | None, params: Mapping[str, str]
    ) -> ProjectAccess | None:
        """Check the caller against this endpoint's declaration; its project access if any.

        Raises Unauthorized (no caller where one is needed) or Forbidden: ``agents_only``,
        ``visitors_only``, and those of ``access_project`` (``not_a_member``,
        ``insufficient_role``, ``wrong_project``, the project's visitor policy).
        """
        if self.auth == "none":
            return None
        caller = require_principal(principal)
        if isinstance(caller, Agent) and "agent" not in self.allowed:
            raise Forbidden("only the project's visitors may do this", code="visitors_only")
        if self.in_project:
            return await access_project(services, caller, params["pid"],
                                        min_role=self.min_role,
                                        visitors="visitor" in self.allowed)
        if "visitor" not in self.allowed:
            require_agent(caller)
        return None


class Router:
    """Collects the endpoints of one feature module."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: Any = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        allowed: tuple[CallerKind, ...] = ("agent",),
        min_role: AgentRole | None = "agent",
        extra_statuses: tuple[int, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """Declare an endpoint. ``min_role`` (agents' least role in the path's project)
        applies only under ``{pid}``; elsewhere agents need no membership."""
        in_project = "{pid}" in path

        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=self.tag,
                    auth="none" if "public" in allowed else "required",
                    body=body,
                    query=query,
                    response=response,
                    allowed=allowed,
                    min_role=min_role if "agent" in allowed and in_project else None,
                    extra_statuses=extra_statuses,
                )
            )
            return handler

        return register


_ADAPTERS: dict[int, TypeAdapter[Any]] = {}


def adapter(annotation: Any) -> TypeAdapter[Any]:
    key = id(annotation)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(annotation)
    return _ADAPTERS[key]


def _validation_details(exc: ValidationError, where: str) -> list[dict[str, Any]]:
    return [
        {"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def validate(annotation: Any, data: Any, where: str) -> Any:
    try:
        return adapter(annotation).validate_python(data)
    except ValidationError as exc:
        details = _validation_details(exc, where)
        first = details[0]
        path = ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"{path}: {first['msg']}", details=details) from None


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
    # Straight from the server's messages, as Starlette's Request.stream() reads them
    # without its async generator (about 2% of a message's CPU, docs/performance.md).
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect: the client went away
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        jsonutil.dumpb(content), status_code=status, media_type="application/json",
        headers=headers,
    )


def error_response(exc: FrontdeskError) -> Response:
    return json_response(exc.to_json(), exc.status, exc.headers)


def _refuse_nul(values: Mapping[str, str], where: str) -> None:
    # PostgreSQL text cannot hold NUL: refuse it here rather than fail in a query.
    for name, value in values.items():
        if "\x00" in name or "\x00" in value:
            raise ValidationFailed(
                f"{where} parameters may not contain the NUL character", code="nul_character"
            )


_JSON_CONTENT_TYPE = (b"content-type", b"application/json")


def to_route(endpoint: Endpoint) -> Route:
    async def handle(request: Request) -> Response | bytes:
        services: Services = request.app.state.services
        params = dict(request.path_params)
        _refuse_nul(params, "path")
        if request.scope["query_string"]:
            _refuse_nul(request.query_params, "query")
        pid = params.get("pid")
        if pid is not None and not is_object_id(pid):
            raise NotFound(f"no project {pid!r}", code="unknown_project")
        principal = None
        if endpoint.auth != "none":
            principal = await authenticate(
                services, request.headers.get("authorization"),
                origin=request.headers.get("origin"), ip=client_ip(request),
            )
        admitted = await endpoint.admit(services, principal, params)
        query = None
        if endpoint.query is not None:
            query = validate(endpoint.query, dict(request.query_params), "query")
        body = None
        if endpoint.body is not None:
            raw = await read_body(request, services.settings.max_body_bytes)
            body = validate(endpoint.body, jsonutil.parse_body(raw), "body")
        call = Call(request, services, principal, params, body, query, admitted)
        result = await endpoint.handler(call)
        if isinstance(result, Response):
            return result
        if services.settings.check_responses and endpoint.response is not None:
            adapter(endpoint.response).validate_python(result)
        return jsonutil.dumpb(result)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # A plain ASGI app, not a function Starlette would wrap: the errors it raises are
        # answered by the HTTP front (api.front), not by a wrapper per endpoint.
        answer = await handle(Request(scope, receive, send))
        if isinstance(answer, Response):
            await answer(scope, receive, send)
            return
        # A JSON answer as Starlette's Response sends it, without building one (its
        # headers, its render) for every request.
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", str(len(answer)).encode()), _JSON_CONTENT_TYPE]})
        await send({"type": "http.response.body", "body": answer})

    route = Route(endpoint.path, _Asgi(app), methods=[endpoint.method],
                  name=endpoint.operation_id)
    route.app = app  # what the wrapper calls, without its frame; the endpoint stays the wrapper
    return route


class _Asgi:
    """An ASGI callable Starlette's ``Route`` takes as is (it wraps plain functions)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
