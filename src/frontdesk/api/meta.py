"""Service endpoints: the OpenAPI document, liveness, readiness and metrics."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router, error_response
from frontdesk.errors import NotFound, ServiceUnavailable
from frontdesk.observability.metrics import CONTENT_TYPE
from frontdesk.observability.readiness import OK

router = Router("meta")


@router.route("GET", "/openapi.json", summary="This API's OpenAPI document",
              response=dict[str, Any], allowed=("public",))
async def openapi_document(call: Call) -> dict[str, Any]:
    document: dict[str, Any] = call.request.app.state.openapi()
    return document


@router.route("GET", "/health", summary="Liveness: the process answers (nothing else is asked)",
              response=s.HealthPublic, allowed=("public",))
async def health(call: Call) -> dict[str, Any]:
    return {"success": True, "status": "ok"}


@router.route("GET", "/ready",
              summary="Readiness: 200 when the database (and Redis, if configured) answer,"
              " else 503 not_ready naming each check in details",
              response=s.ReadyPublic, allowed=("public",), extra_statuses=(503,))
async def ready(call: Call) -> dict[str, Any] | Response:
    checks: dict[str, str] = await call.request.app.state.readiness.check()
    if all(state == OK for state in checks.values()):
        return {"success": True, "status": "ready", "checks": checks}
    failed = ", ".join(f"{name} {state}" for name, state in checks.items() if state != OK)
    error = ServiceUnavailable(
        f"not ready: {failed}",
        code="not_ready",
        details=[{"check": name, "status": state} for name, state in checks.items()],
    )
    return error_response(error)


async def metrics_page(request: Request) -> Response:
    """Prometheus text; with ``metrics_token`` set, only for ``Authorization: Bearer <it>``."""
    expected = request.app.state.settings.metrics_token
    if expected:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            # Answered as if there were no metrics here, so a scan learns nothing.
            return error_response(NotFound("no route GET /metrics", code="route_not_found"))
    body = request.app.state.metrics.render()
    return Response(body, media_type=CONTENT_TYPE)


def metrics_routes() -> list[BaseRoute]:
    """``GET /metrics``, mounted only when ``FRONTDESK_METRICS`` is on."""
    return [Route("/metrics", metrics_page, methods=["GET"])]
