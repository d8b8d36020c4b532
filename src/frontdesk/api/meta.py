"""Service endpoints: the OpenAPI document and a health check."""

from __future__ import annotations

from typing import Any

from frontdesk.api.routing import Call, Router

router = Router("meta")


@router.route("GET", "/openapi.json", summary="This API's OpenAPI document",
              response=dict[str, Any], allowed=("public",))
async def openapi_document(call: Call) -> dict[str, Any]:
    document: dict[str, Any] = call.request.app.state.openapi
    return document


@router.route("GET", "/health", summary="Liveness and database reachability",
              response=dict[str, Any], allowed=("public",))
async def health(call: Call) -> dict[str, Any]:
    await call.services.db.fetch_value("SELECT 1")
    return {"success": True, "status": "ok", "database": call.services.db.dialect}
