"""Input limits: each oversized or malformed input is refused with a stable code, never a 500,
and nothing of it is stored. The limits are listed in docs/limits.md."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from frontdesk.api.schemas import MAX_ATTRIBUTES, MAX_OBJECT_BYTES, MAX_OBJECT_DEPTH
from frontdesk.jsonutil import MAX_BODY_DEPTH
from tests.conftest import Factory, Visitor, sign_customer_token
from tests.security.conftest import assert_error, row_counts


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.fixture
def visitor(make: Factory) -> Visitor:
    return make.visitor(make.project())


def _refused(visitor: Visitor, status: int, code: str, **body: Any) -> dict[str, Any]:
    before = row_counts(visitor.client)
    response = visitor.send(visitor.new_request_id(), **{"text": "hello", **body})
    assert_error(response, status, code)
    assert row_counts(visitor.client) == before
    details: dict[str, Any] = (response.json().get("details") or [{}])[0]
    return details


def test_bodies_over_the_size_limit_are_refused_with_413(visitor: Visitor) -> None:
    before = row_counts(visitor.client)
    huge = b'{"text": "' + b"x" * (256 * 1024) + b'"}'
    response = visitor.client.post(
        f"/{visitor.project_id}/requests/{visitor.new_request_id()}/messages",
        content=huge,
        headers={**visitor.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")
    assert row_counts(visitor.client) == before


def test_message_text_over_8192_characters_is_refused(visitor: Visitor) -> None:
    details = _refused(visitor, 422, "validation_error", text="x" * 8193)
    assert details["loc"] == ["body", "text"]
    assert details["type"] == "string_too_long"
    assert visitor.send(visitor.new_request_id(), "x" * 8192).status_code == 200


def test_too_many_attributes_are_refused(visitor: Visitor) -> None:
    attributes = {f"k{i}": i for i in range(MAX_ATTRIBUTES + 1)}
    details = _refused(visitor, 422, "validation_error", attributes=attributes)
    assert details["loc"] == ["body", "attributes"]
    assert details["type"] == "too_long"


def test_attributes_nested_too_deep_are_refused(visitor: Visitor) -> None:
    details = _refused(
        visitor, 422, "validation_error", attributes=_nested(MAX_OBJECT_DEPTH + 1)
    )
    assert details["type"] == "object_too_deep"
    ok = visitor.send(visitor.new_request_id(), "hi", attributes=_nested(MAX_OBJECT_DEPTH))
    assert ok.status_code == 200, ok.text


def test_attributes_too_large_are_refused(visitor: Visitor) -> None:
    details = _refused(
        visitor, 422, "validation_error", attributes={"blob": "x" * MAX_OBJECT_BYTES}
    )
    assert details["type"] == "object_too_large"


def test_metadata_obeys_the_same_limits(visitor: Visitor) -> None:
    details = _refused(visitor, 422, "validation_error", metadata=_nested(MAX_OBJECT_DEPTH + 1))
    assert details["loc"] == ["body", "metadata"]
    assert details["type"] == "object_too_deep"


def test_request_attributes_patch_obeys_the_limits(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hi").status_code == 200
    response = make.client.patch(
        f"/{project.id}/requests/{rid}/attributes",
        json=_nested(MAX_OBJECT_DEPTH + 1),
        headers=visitor.headers,
    )
    assert_error(response, 422, "validation_error")
    assert response.json()["details"][0]["type"] == "object_too_deep"


def test_bodies_nested_past_the_parser_limit_are_refused(visitor: Visitor) -> None:
    # Deep enough to break JSON serialisation if it were stored: refused as a whole.
    _refused(visitor, 422, "too_deep", channel=_nested(MAX_BODY_DEPTH + 300))


@pytest.mark.parametrize("field", ["text", "senderFullname", "sourcePage"])
def test_nul_characters_in_bodies_are_refused(visitor: Visitor, field: str) -> None:
    _refused(visitor, 422, "nul_character", **{field: "a\x00b"})


def test_nul_characters_in_attribute_keys_are_refused(visitor: Visitor) -> None:
    _refused(visitor, 422, "nul_character", attributes={"a\x00": 1})


def test_nul_characters_in_signup_and_project_names_are_refused(make: Factory) -> None:
    signup = make.client.post(
        "/auth/signup", json={"email": "a\x00b@example.com", "password": "long enough pw"}
    )
    assert_error(signup, 422, "nul_character")
    owner = make.agent()
    project = make.client.post("/projects", json={"name": "a\x00b"}, headers=owner.headers)
    assert_error(project, 422, "nul_character")


@pytest.mark.parametrize(
    "path",
    [
        "/{pid}/leads/a%00b",
        "/{pid}/project_users/users/a%00b",
        "/{pid}/departments/a%00b",
        "/{pid}/requests?text=a%00b",
        "/{pid}/leads?text=a%00b",
    ],
)
def test_nul_characters_in_paths_and_queries_are_refused(make: Factory, path: str) -> None:
    project = make.project()
    response = make.client.get(path.format(pid=project.id), headers=project.owner.headers)
    assert_error(response, 422, "nul_character")


def test_nul_characters_in_basic_credentials_are_refused(make: Factory) -> None:
    credentials = base64.b64encode(b"a\x00b@example.com:password").decode()
    response = make.client.get("/projects", headers={"Authorization": "Basic " + credentials})
    assert_error(response, 401, "malformed_token")


def test_a_customer_name_with_nul_is_left_out_of_the_profile(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, _id="c-1", firstname="a\x00b")
    response = make.client.post(
        "/auth/signinWithCustomToken", headers={"Authorization": "JWT " + token}
    )
    assert response.status_code == 200, response.text
    assert "\x00" not in response.json()["user"]["firstname"]


def test_a_request_id_with_a_trailing_newline_is_refused(visitor: Visitor) -> None:
    before = row_counts(visitor.client)
    rid = visitor.new_request_id() + "%0A"  # a newline, percent-encoded in the path
    assert_error(visitor.send(rid, "hello"), 400, "invalid_request_id")
    assert row_counts(visitor.client) == before


def test_a_customer_id_with_a_trailing_newline_is_refused(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, _id="alice\n")
    response = make.client.post(
        "/auth/signinWithCustomToken", headers={"Authorization": "JWT " + token}
    )
    assert_error(response, 401, "missing_claim")
