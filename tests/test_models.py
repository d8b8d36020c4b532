"""One complete, closed public model per entity: what the API sends is what it declares.

Every answer the suite receives is checked against these models (``check_responses``); these
tests make sure the check has teeth: an undeclared field fails it, in an answer and in a
realtime event, and the OpenAPI document lists every field a client receives.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from frontdesk.api import schemas as s
from frontdesk.realtime.events import MessageCreated, check_wire_objects
from frontdesk.settings import Settings
from tests.conftest import Factory


def _conversation(make: Factory) -> dict[str, Any]:
    """A conversation with a message, and every entity around it, as the API answers them."""
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    sent = visitor.send(rid, "hello", attributes={"page": "/pricing"})
    assert sent.status_code == 200, sent.text
    owner = project.owner.headers
    client = make.client
    tagged = client.patch(f"/{project.id}/requests/{rid}", json={"tags": ["vip"]}, headers=owner)
    assert tagged.status_code == 200, tagged.text
    request = client.get(f"/{project.id}/requests/{rid}", headers=owner).json()
    return {
        "project": project,
        "visitor": visitor,
        "rid": rid,
        "request": request,
        "visitor_request": client.get(
            f"/{project.id}/requests/{rid}", headers=visitor.headers
        ).json(),
        "message": client.get(f"/{project.id}/requests/{rid}/messages", headers=owner).json()[0],
        "lead": client.get(f"/{project.id}/leads/{request['lead']['_id']}", headers=owner).json(),
        "member": client.get(f"/{project.id}/project_users", headers=owner).json()[0],
        "department": client.get(f"/{project.id}/departments/allstatus", headers=owner).json()[0],
        "project_body": client.get(f"/projects/{project.id}", headers=owner).json(),
    }


def test_each_entity_model_takes_its_answer_and_refuses_an_undeclared_field(
    make: Factory,
) -> None:
    seen = _conversation(make)
    cases = [
        (s.RequestPublic, seen["request"]),
        (s.RequestVisitorPublic, seen["visitor_request"]),
        (s.MessagePublic, seen["message"]),
        (s.LeadPublic, seen["lead"]),
        (s.ProjectUserPublic, seen["member"]),
        (s.DepartmentPublic, seen["department"]),
        (s.ProjectPublic, seen["project_body"]),
    ]
    for model, body in cases:
        adapter: TypeAdapter[Any] = TypeAdapter(model)
        adapter.validate_python(body)
        with pytest.raises(ValidationError, match="undeclared"):
            adapter.validate_python({**body, "undeclared": 1})


def test_a_visitor_is_answered_with_its_own_view_of_the_conversation(make: Factory) -> None:
    seen = _conversation(make)
    agents_view, visitors_view = seen["request"], seen["visitor_request"]
    assert agents_view["tags"] == ["vip"]
    assert "tags" not in visitors_view and "visitorAttributeKeys" not in visitors_view
    assert visitors_view["attributes"].keys() == {"page", "senderAuthInfo"}
    with pytest.raises(ValidationError):
        TypeAdapter(s.RequestVisitorPublic).validate_python(agents_view)
    with pytest.raises(ValidationError):
        TypeAdapter(s.RequestPublic).validate_python(visitors_view)


def test_an_answer_with_an_undeclared_field_fails_the_response_check(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make.project()
    departments = make.client.get(
        f"/{project.id}/departments/allstatus", headers=project.owner.headers
    ).json()
    from frontdesk.api import departments as handlers

    real = handlers.present_department
    monkeypatch.setattr(handlers, "present_department",
                        lambda row: {**real(row), "internal_note": "leaked"})
    with pytest.raises(ValidationError, match="internal_note"):
        make.client.get(f"/{project.id}/departments/{departments[0]['_id']}",
                        headers=project.owner.headers)


class _Transaction:
    """Enough of a transaction for ``publish_on_commit``: it only registers hooks."""

    def __init__(self) -> None:
        self.hooks: list[Any] = []

    def on_commit(self, hook: Any) -> None:
        self.hooks.append(hook)


def test_an_event_with_an_undeclared_field_fails_the_event_check(make: Factory) -> None:
    seen = _conversation(make)
    services = make.client.app.state.services  # type: ignore[attr-defined]
    event = MessageCreated.model_construct(
        project_id=seen["project"].id,
        request_id=seen["rid"],
        requester_user_id=seen["visitor"].id,
        message={**seen["message"], "internal_note": "leaked"},
    )
    tx = _Transaction()
    with pytest.raises(ValidationError, match="internal_note"):
        services.publish_on_commit(tx, event)
    assert tx.hooks == []  # refused before anything could be published
    sound = MessageCreated.model_construct(
        project_id=seen["project"].id,
        request_id=seen["rid"],
        requester_user_id=seen["visitor"].id,
        message=seen["message"],
    )
    services.publish_on_commit(tx, sound)
    assert len(tx.hooks) == 1


def test_a_snapshot_object_with_an_undeclared_field_fails_the_frame_check(
    make: Factory,
) -> None:
    seen = _conversation(make)
    sound = [seen["message"], seen["request"], seen["visitor_request"], seen["member"]]
    check_wire_objects(sound)
    with pytest.raises(ValidationError):
        check_wire_objects([*sound, {**seen["message"], "internal_note": "leaked"}])


def test_every_server_the_suite_starts_checks_its_answers() -> None:
    # In-process apps get it from make_settings; `frontdesk serve` subprocesses inherit it.
    assert os.environ["FRONTDESK_CHECK_RESPONSES"] == "true"
    assert Settings.from_env().check_responses is True


def test_the_openapi_document_declares_every_field_clients_receive(make: Factory) -> None:
    seen = _conversation(make)
    document = make.client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for name, body in [
        ("RequestPublic", seen["request"]),
        ("RequestVisitorPublic", seen["visitor_request"]),
        ("MessagePublic", seen["message"]),
        ("LeadPublic", seen["lead"]),
        ("DepartmentPublic", seen["department"]),
        ("ProjectPublic", seen["project_body"]),
    ]:
        schema = schemas[name]
        assert schema["additionalProperties"] is False, name
        assert set(body) <= set(schema["properties"]), (name, set(body) - set(schema["properties"]))
        assert set(schema["required"]) <= set(body), name
    member = schemas["ProjectUserPublic"]
    assert member["additionalProperties"] is False
    assert set(seen["member"]) <= set(member["properties"])
    assert schemas["RequestPublic"]["properties"]["status"]["description"]


def _undescribed(document: dict[str, Any]) -> set[str]:
    """``Schema.field`` of every property, in what any answer can hold, without a description."""
    components = document["components"]["schemas"]
    missing: set[str] = set()
    seen: set[str] = set()

    def walk(schema: Any, where: str) -> None:
        if isinstance(schema, list):
            for item in schema:
                walk(item, where)
            return
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if ref is not None:
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(components[name], name)
        for field, prop in schema.get("properties", {}).items():
            if "description" not in prop:
                missing.add(f"{where}.{field}")
            walk(prop, where)
        for key in ("items", "anyOf", "allOf", "oneOf", "additionalProperties"):
            walk(schema.get(key), where)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                walk(content.get("schema"), f"{method.upper()} {path} {status}")
    return missing


def test_every_field_of_every_answer_is_described(client: Any) -> None:
    document = client.get("/openapi.json").json()
    assert _undescribed(document) == set()


def test_error_answers_are_exactly_the_declared_error_shape(make: Factory) -> None:
    project = make.project()
    missing = make.client.get(f"/{project.id}/requests/support-group-{project.id}-{'0' * 32}",
                              headers=project.owner.headers)
    invalid = make.client.post(f"/{project.id}/departments", json={"name": ""},
                               headers=project.owner.headers)
    assert (missing.status_code, invalid.status_code) == (404, 422)
    adapter = TypeAdapter(s.ErrorPublic)
    for answer in (missing.json(), invalid.json()):
        adapter.validate_python(answer)
        with pytest.raises(ValidationError, match="undeclared"):
            adapter.validate_python({**answer, "undeclared": 1})
