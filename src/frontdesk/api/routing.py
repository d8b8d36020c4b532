"""The route table: each endpoint declares its method, path, auth, body, query and response.

From this one table come the Starlette routes, the OpenAPI document and the tests that walk
every endpoint. A handler receives a ``Call`` with everything already parsed and validated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from frontdesk import jsonutil
from frontdesk.actions.access import authenticate
from frontdesk.auth.principals import Principal
from frontdesk.errors import FrontdeskError, NotFound, PayloadTooLarge, ValidationFailed
from frontdesk.ids import is_object_id
from frontdesk.services import Services

AuthMode = Literal["none", "optional", "required"]


@dataclass
class Call:
    request: Request
    services: Services
    principal: Principal | None
    params: dict[str, str]
    body: Any
    query: Any

    @property
    def client_ip(self) -> str:
        return client_ip(self.request)


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
    # Who may get a 200 here: "agent" (with min_role), "visitor", "public".
    allowed: tuple[str, ...] = ("agent",)
    min_role: str | None = None
    extra_statuses: tuple[int, ...] = field(default=())

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


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
        auth: AuthMode = "required",
        body: Any = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        allowed: tuple[str, ...] = ("agent",),
        min_role: str | None = "agent",
        extra_statuses: tuple[int, ...] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=self.tag,
                    auth=auth,
                    body=body,
                    query=query,
                    response=response,
                    allowed=allowed,
                    min_role=min_role if "agent" in allowed else None,
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
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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


def to_route(endpoint: Endpoint) -> Route:
    async def handle(request: Request) -> Response:
        services: Services = request.app.state.services
        params = dict(request.path_params)
        _refuse_nul(params, "path")
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
        query = None
        if endpoint.query is not None:
            query = validate(endpoint.query, dict(request.query_params), "query")
        body = None
        if endpoint.body is not None:
            raw = await read_body(request, services.settings.max_body_bytes)
            body = validate(endpoint.body, jsonutil.parse_body(raw), "body")
        call = Call(request, services, principal, params, body, query)
        result = await endpoint.handler(call)
        if isinstance(result, Response):
            return result
        if services.settings.check_responses and endpoint.response is not None:
            adapter(endpoint.response).validate_python(result)
        return json_response(result)

    return Route(endpoint.path, handle, methods=[endpoint.method], name=endpoint.operation_id)
