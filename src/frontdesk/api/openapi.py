"""The OpenAPI 3.1 document, generated from the route table and its pydantic models."""

from __future__ import annotations

import re
from typing import Any

from frontdesk import __version__
from frontdesk.api import schemas as s
from frontdesk.api.routing import Endpoint, adapter

_PARAM_RE = re.compile(r"{(\w+)}")
_REF = "#/components/schemas/{model}"

_PARAM_DOCS = {
    "pid": "Project id (24 hex)",
    "rid": "Request id: support-group-<pid>-<32 hex>",
    "uid": "User id (agent account id or visitor id)",
    "puid": "Project-user (membership) id",
    "did": "Department id",
    "lid": "Lead _id or the visitor's lead_id",
}


def _schema(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = adapter(annotation).json_schema(ref_template=_REF, mode="serialization")
    components.update(schema.pop("$defs", {}))
    return schema


def _input_schema(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = adapter(annotation).json_schema(ref_template=_REF, mode="validation")
    components.update(schema.pop("$defs", {}))
    return schema


def _operation(endpoint: Endpoint, components: dict[str, Any]) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": _PARAM_DOCS.get(name, name),
            "schema": {"type": "string", "pattern": r"^[0-9a-f]{24}$"}
            if name == "pid"
            else {"type": "string"},
        }
        for name in _PARAM_RE.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        query_schema = _input_schema(endpoint.query, components)
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    error = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorPublic")}}}
    responses: dict[str, Any] = {
        "200": {
            "description": "Success",
            "content": {
                "application/json": {
                    "schema": _schema(endpoint.response, components)
                    if endpoint.response is not None
                    else {}
                }
            },
        },
        "400": {"description": "Bad input", "content": error},
        "404": {"description": "Not found", "content": error},
        "413": {"description": "Body too large", "content": error},
        "422": {"description": "Invalid input", "content": error},
    }
    if endpoint.auth != "none" or 401 in endpoint.extra_statuses:
        responses["401"] = {"description": "Not signed in or bad token", "content": error}
    if endpoint.auth != "none" or 403 in endpoint.extra_statuses:
        responses["403"] = {"description": "Not allowed", "content": error}
    if 429 in endpoint.extra_statuses:
        responses["429"] = {
            "description": "Too many requests: retry after the Retry-After header's seconds",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": error,
        }
    if 503 in endpoint.extra_statuses:
        responses["503"] = {"description": "A service it depends on is unavailable",
                            "content": error}
    if endpoint.method in ("POST", "PUT", "PATCH", "DELETE"):
        responses["409"] = {"description": "Conflicts with the current state", "content": error}
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": params,
        "responses": responses,
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _input_schema(endpoint.body, components)}},
        }
    if endpoint.auth == "required":
        operation["security"] = [{"jwt": []}, {"basic": []}]
    return operation


def build_openapi(endpoints: list[Endpoint], base_url: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    _schema(s.ErrorPublic, components)
    components["ErrorPublic"] = adapter(s.ErrorPublic).json_schema(ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, components
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "frontdesk",
            "version": __version__,
            "description": "Live-chat support server speaking Tiledesk's REST dialect. "
            "Errors are JSON {success: false, code, message}.",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "jwt": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "JWT <token> (Bearer <token> works too)",
                },
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
    }
