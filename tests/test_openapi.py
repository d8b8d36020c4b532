"""The OpenAPI document says what the server does: every answer described, the limits the
server enforces declared, and links that lead from one answer to the next operation."""

from __future__ import annotations

import re
import uuid
from typing import Any

from typing_extensions import TypedDict

from frontdesk.api.openapi import NUL_FREE, build_openapi
from frontdesk.api.routing import Call, Endpoint
from frontdesk.api.table import all_endpoints
from tests.conftest import Factory

_PARAM_RE = re.compile(r"{(\w+)}")


def _document() -> dict[str, Any]:
    return build_openapi(all_endpoints(), "http://testserver")


def _operations(doc: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (method, path template, operation)."""
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    }


def _schema_at(doc: dict[str, Any], schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    """The schema of the value ``pointer`` selects in a document ``schema`` describes."""
    for token in pointer.strip("/").split("/"):
        schema = _concrete(doc, schema)
        if token.isdigit():
            assert schema.get("type") == "array", (pointer, schema)
            schema = schema["items"]
        else:
            assert token in schema.get("properties", {}), (pointer, token, schema)
            schema = schema["properties"][token]
    return _concrete(doc, schema)


def _concrete(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif "anyOf" in schema:
            schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        else:
            return schema


def test_every_documented_status_has_a_schema() -> None:
    for path, ops in _document()["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                schema = response["content"]["application/json"]["schema"]
                assert schema, (method, path, status)


def test_every_link_fills_its_target_from_what_the_answer_declares() -> None:
    doc = _document()
    operations = _operations(doc)
    count = 0
    for source_id, (_, source_path, op) in operations.items():
        answer = op["responses"]["200"]["content"]["application/json"]["schema"]
        for link in op["responses"]["200"].get("links", {}).values():
            _, target_path, _ = operations[link["operationId"]]
            assert set(link["parameters"]) == set(_PARAM_RE.findall(target_path)), link
            for expression in link["parameters"].values():
                if expression.startswith("$request.path."):
                    assert "{" + expression.removeprefix("$request.path.") + "}" in source_path
                else:
                    pointer = expression.removeprefix("$response.body#")
                    assert _schema_at(doc, answer, pointer)["type"] == "string", (
                        source_id, expression)
            count += 1
    assert count > 50
    links_of = {op_id: set(op["responses"]["200"].get("links", {}))
                for op_id, (_, _, op) in operations.items()}
    assert {"get_request", "list_messages", "close_request", "assign_request"} <= links_of[
        "post_message"]
    assert {"list_sessions", "export_lead", "list_merges"} <= links_of["get_lead"]
    assert {"list_requests", "list_leads", "list_departments"} <= links_of["create_project"]
    assert {"get_department", "update_department", "delete_department"} <= links_of[
        "create_department"]
    assert "withdraw_invitation" in links_of["invite"]


def _pointer(value: Any, pointer: str) -> Any:
    for token in pointer.strip("/").split("/"):
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def _follow(
    doc: dict[str, Any], source: str, path_params: dict[str, str], answer: Any, target: str
) -> str:
    """The concrete path of ``target`` that ``source``'s link fills from its call and answer."""
    _, _, op = _operations(doc)[source]
    _, target_path, _ = _operations(doc)[target]
    link = op["responses"]["200"]["links"][target]
    values = {
        name: path_params[expression.removeprefix("$request.path.")]
        if expression.startswith("$request.path.")
        else _pointer(answer, expression.removeprefix("$response.body#"))
        for name, expression in link["parameters"].items()
    }
    return _PARAM_RE.sub(lambda m: str(values[m.group(1)]), target_path)


def test_following_links_reaches_real_objects(make: Factory) -> None:
    """A created request leads to its messages and its lead, the lead to its sessions and
    export, a project to its lists, a department to itself, an invitation to its withdrawal."""
    doc = make.client.get("/openapi.json").json()
    owner = make.agent()
    client, headers = make.client, owner.headers
    created = client.post("/projects", json={"name": "Linked"}, headers=headers)
    for target in ("list_requests", "list_leads", "list_departments", "list_team"):
        path = _follow(doc, "create_project", {}, created.json(), target)
        assert client.get(path, headers=headers).status_code == 200, path
    project = make.project(owner)
    pid = project.id
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    sent = visitor.send(rid, "hello")
    for target in ("get_request", "list_messages"):
        path = _follow(doc, "post_message", {"pid": pid, "rid": rid}, sent.json(), target)
        assert client.get(path, headers=headers).status_code == 200, path
    path = _follow(doc, "post_message", {"pid": pid, "rid": rid}, sent.json(), "close_request")
    assert client.put(path, headers=headers).json()["request_id"] == rid

    request = client.get(f"/{pid}/requests/{rid}", headers=headers).json()
    path = _follow(doc, "get_request", {"pid": pid, "rid": rid}, request, "get_lead")
    lead = client.get(path, headers=headers)
    assert lead.json()["lead_id"] == visitor.id
    lid_params = {"pid": pid, "lid": visitor.id}
    for target in ("list_sessions", "export_lead", "list_merges"):
        path = _follow(doc, "get_lead", lid_params, lead.json(), target)
        assert client.get(path, headers=headers).status_code == 200, path

    department = client.post(f"/{pid}/departments", json={"name": "Sales"}, headers=headers)
    path = _follow(doc, "create_department", {"pid": pid}, department.json(), "get_department")
    assert client.get(path, headers=headers).json()["name"] == "Sales"
    path = _follow(doc, "create_department", {"pid": pid}, department.json(),
                   "delete_department")
    assert client.delete(path, headers=headers).status_code == 200
    gone = client.get(path, headers=headers)
    assert (gone.status_code, gone.json()["code"]) == (404, "department_not_found")

    invited = make.invite(project, f"x-{uuid.uuid4().hex[:8]}@example.com")
    path = _follow(doc, "invite", {"pid": pid}, invited, "withdraw_invitation")
    assert client.delete(path, headers=headers).json()["invitation"]["status"] == "withdrawn"


def _strings(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, list | tuple):
        return [s for item in schema for s in _strings(item)]
    if not isinstance(schema, dict):
        return []
    found = [schema] if schema.get("type") == "string" else []
    return found + [s for value in schema.values() for s in _strings(value)]


def test_inputs_declare_the_limits_the_server_enforces(make: Factory) -> None:
    doc = make.client.get("/openapi.json").json()
    inputs = [
        (op.get("requestBody"), op["parameters"])
        for ops in doc["paths"].values()
        for op in ops.values()
    ]
    input_models = {
        ref.rsplit("/", 1)[1]
        for body, _ in inputs if body is not None
        for ref in re.findall(r"'\$ref': '([^']+)'", str(body))
    }
    strings = _strings(inputs) + _strings(
        [doc["components"]["schemas"][name] for name in input_models]
    )
    assert len(strings) > 100
    for schema in strings:
        assert "enum" in schema or "const" in schema or "pattern" in schema, schema
        if "pattern" in schema:
            assert not re.search(schema["pattern"], "\x00"), schema
            assert not re.search(schema["pattern"], "a\x00b@c.d"), schema

    post = _operations(doc)["post_message"][2]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["text"]["pattern"] == NUL_FREE
    assert body["properties"]["text"]["maxLength"] == 8192
    attributes = body["properties"]["attributes"]
    assert attributes["maxProperties"] == 100 and "maxLength" not in attributes
    assert attributes["propertyNames"] == {"pattern": NUL_FREE}
    assert "8 levels and 16384 bytes" in attributes["description"]

    # The server refuses what the document rules out.
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    refused = visitor.send(rid, "a\x00b")
    assert refused.status_code == 422 and refused.json()["code"] == "nul_character"
    too_many = visitor.send(rid, "hi", attributes={f"k{i}": i for i in range(101)})
    assert (too_many.status_code, too_many.json()["code"]) == (422, "validation_error")
    assert [d["loc"] for d in too_many.json()["details"]] == [["body", "attributes"]]
    never_opened = make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers)
    assert (never_opened.status_code, never_opened.json()["code"]) == (404, "request_not_found")


class _Thing(TypedDict):
    id: str
    count: int


async def _things(call: Call) -> list[_Thing]:
    return []


def test_typed_dict_answers_are_documented_like_models() -> None:
    endpoint = Endpoint("GET", "/things", _things, summary="Things", tag="things", auth="none",
                        response=list[_Thing], allowed=("public",))
    doc = build_openapi([endpoint], "http://testserver")
    schema = doc["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/_Thing"}}
    thing = doc["components"]["schemas"]["_Thing"]
    assert thing["required"] == ["id", "count"]
    assert thing["properties"]["count"]["type"] == "integer"
