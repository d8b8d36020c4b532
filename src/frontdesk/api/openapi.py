"""The OpenAPI 3.1 document, generated from the route table and its models.

Responses are described by whatever each endpoint declares (a pydantic model, a TypedDict, a
list of either), errors by ``ErrorPublic``. Inputs also carry the limits the server enforces
beyond their models: no NUL character in any string or object key, the shape of every path
parameter. ``links`` join each answer to the operations that take what it names (a created
request's id to its messages, a lead's id to its sessions…), so that a client, or a stateful
fuzzer, can walk from one resource to the next.
"""

from __future__ import annotations

import re
from typing import Any

from frontdesk import __version__
from frontdesk.api import schemas as s
from frontdesk.api.routing import Endpoint, adapter
from frontdesk.ids import OBJECT_ID_RE, REQUEST_ID_RE, VISITOR_ID_RE

_PARAM_RE = re.compile(r"{(\w+)}")
_REF = "#/components/schemas/{model}"
# Every string the server accepts: PostgreSQL text cannot hold NUL, so none is stored.
NUL_FREE = r"^[^\x00]*$"
# A JWK's kid may be any 1 to 200 characters; a path segment cannot carry a slash.
_KID = r"^[^\x00/]{1,200}$"
_TAG = r"^[^\x00/]{1,100}$"

_PATH_PARAMS: dict[str, tuple[str, str]] = {
    "pid": ("Project id (24 hex)", OBJECT_ID_RE.pattern),
    "rid": ("Request id: support-group-<pid>-<32 hex>", REQUEST_ID_RE.pattern),
    "uid": ("User id (agent account id or visitor id)", VISITOR_ID_RE.pattern),
    "puid": ("Project-user (membership) id", OBJECT_ID_RE.pattern),
    "did": ("Department id", OBJECT_ID_RE.pattern),
    "lid": ("Lead _id or the visitor's lead_id", VISITOR_ID_RE.pattern),
    "iid": ("Invitation id", OBJECT_ID_RE.pattern),
    "mid": ("Merge id", OBJECT_ID_RE.pattern),
    "cid": ("Canned response id", OBJECT_ID_RE.pattern),
    "nid": ("Private note id", OBJECT_ID_RE.pattern),
    "kid": ("Key id", _KID),
    "jti": ("Session id (the jti of its token)", r"^[0-9a-f]{32}$"),
    "fid": ("File id (24 hex)", OBJECT_ID_RE.pattern),
    "tid": ("Tag id (of the project's tag library)", OBJECT_ID_RE.pattern),
    "tag_id": ("A conversation tag's _id, or its name if stored as a bare name", _TAG),
    "tag": ("A contact tag's name", _TAG),
}

# Where each answer names something a path parameter takes (JSON pointers into the 200
# body). An operation links to every other operation whose path parameters it can fill
# from its own path and these names, using at least one of the names.
ANSWER_NAMES: dict[str, dict[str, str]] = {
    "create_project": {"pid": "/_id"},
    "list_projects": {"pid": "/0/id_project/_id"},
    "list_requests": {"rid": "/requests/0/request_id"},
    "list_my_requests": {"rid": "/requests/0/request_id"},
    "get_request": {"rid": "/request_id", "lid": "/lead/lead_id"},
    "post_message": {"rid": "/recipient"},
    "list_leads": {"lid": "/leads/0/lead_id"},
    "get_lead": {"lid": "/lead_id"},
    "update_lead": {"lid": "/lead_id"},
    "list_sessions": {"jti": "/0/jti"},
    "list_merges": {"mid": "/0/_id"},
    "list_departments": {"did": "/0/_id"},
    "create_department": {"did": "/_id"},
    "get_department": {"did": "/_id"},
    "update_department": {"did": "/_id"},
    "list_team": {"puid": "/0/_id"},
    "invite": {"iid": "/invitation/_id"},
    "list_invitations": {"iid": "/0/_id"},
    "create_key": {"kid": "/kid"},
    "list_keys": {"kid": "/0/kid"},
    "list_canned": {"cid": "/0/_id"},
    "create_canned": {"cid": "/_id"},
    "add_note": {"nid": "/notes/0/_id"},
    "list_tags": {"tid": "/0/_id"},
    "create_tag": {"tid": "/_id"},
    "get_tag": {"tid": "/_id"},
    "update_tag": {"tid": "/_id"},
}


def _schema(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = adapter(annotation).json_schema(ref_template=_REF, mode="serialization")
    components.update(schema.pop("$defs", {}))
    return schema


def _input_schema(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = declare_input_limits(
        adapter(annotation).json_schema(ref_template=_REF, mode="validation")
    )
    components.update(schema.pop("$defs", {}))
    return schema


def declare_input_limits(schema: Any) -> Any:
    """``schema`` (of an input) with the limits the server applies to all input: strings
    without a pattern of their own get ``NUL_FREE``, free-form objects the same for their
    keys; a length limit on an object is spelled as the count of its properties."""
    if isinstance(schema, list):
        return [declare_input_limits(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: declare_input_limits(value) for key, value in schema.items()}
    if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema \
            and "const" not in schema:
        schema["pattern"] = NUL_FREE
    if schema.get("type") == "object":
        for words, counts in (("maxLength", "maxProperties"), ("minLength", "minProperties")):
            if words in schema:
                schema[counts] = schema.pop(words)
        if schema.get("additionalProperties", True) is not False and "propertyNames" not in schema:
            schema["propertyNames"] = {"pattern": NUL_FREE}
    return schema


def _path_parameter(name: str) -> dict[str, Any]:
    description, pattern = _PATH_PARAMS[name]
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": pattern},
    }


def _links(endpoint: Endpoint, endpoints: list[Endpoint]) -> dict[str, Any]:
    names = ANSWER_NAMES.get(endpoint.operation_id, {})
    own = set(_PARAM_RE.findall(endpoint.path))
    links: dict[str, Any] = {}
    for target in endpoints:
        wanted = set(_PARAM_RE.findall(target.path))
        if target is endpoint or not wanted & set(names) or not wanted <= own | set(names):
            continue
        links[target.operation_id] = {
            "operationId": target.operation_id,
            "description": target.summary,
            "parameters": {
                name: f"$response.body#{names[name]}" if name in names
                else f"$request.path.{name}"
                for name in sorted(wanted)
            },
        }
    return links


def _operation(
    endpoint: Endpoint, endpoints: list[Endpoint], components: dict[str, Any]
) -> dict[str, Any]:
    params = [_path_parameter(name) for name in _PARAM_RE.findall(endpoint.path)]
    if endpoint.query is not None:
        query_schema = _input_schema(endpoint.query, components)
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    error = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorPublic")}}}
    success: dict[str, Any] = {
        "description": "Success",
        "content": {"application/json": {"schema": _schema(endpoint.response, components)}},
    }
    links = _links(endpoint, endpoints)
    if links:
        success["links"] = links
    responses: dict[str, Any] = {
        "200": success,
        "400": {"description": "Bad input", "content": error},
        "404": {"description": "Not found", "content": error},
        "413": {"description": "Body too large", "content": error},
        "422": {"description": "Invalid input", "content": error},
    }
    if endpoint.auth != "none" or 401 in endpoint.extra_statuses:
        responses["401"] = {"description": "Not signed in or bad token", "content": error}
    if endpoint.auth != "none" or 403 in endpoint.extra_statuses:
        responses["403"] = {"description": "Not allowed", "content": error}
    # HTTP Basic works on every signed-in endpoint, with its failure limit and hashing queue.
    if endpoint.auth != "none" or 429 in endpoint.extra_statuses:
        responses["429"] = {
            "description": "Too many requests: retry after the Retry-After header's seconds",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": error,
        }
    if endpoint.auth != "none" or 503 in endpoint.extra_statuses:
        responses["503"] = {"description": "A service it depends on is unavailable",
                            "content": error}
    if 415 in endpoint.extra_statuses:
        responses["415"] = {"description": "Content of a type not accepted", "content": error}
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
    """The document; raises ValueError for an endpoint that declares no response."""
    components: dict[str, Any] = {}
    components["ErrorPublic"] = _schema(s.ErrorPublic, components)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        if endpoint.response is None:
            raise ValueError(f"{endpoint.method} {endpoint.path} declares no response")
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, endpoints, components
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
