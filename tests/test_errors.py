"""One JSON error shape everywhere; success is always 200; the OpenAPI document covers all."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Factory

_FAKE = {
    "pid": "0" * 24,
    "rid": "support-group-" + "0" * 24 + "-" + "0" * 32,
    "uid": "u",
    "puid": "0" * 24,
    "did": "0" * 24,
    "lid": "0" * 24,
    "kid": "k0",
    "jti": "0" * 32,
    "mid": "0" * 24,
    "iid": "0" * 24,
    "fid": "0" * 24,
    "cid": "0" * 24,
    "nid": "0" * 24,
    "tid": "0" * 24,
    "tag_id": "t",
    "tag": "t",
}


def _assert_error_shape(response: Any) -> None:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["code"], str) and re.fullmatch(r"[a-z_]+", body["code"])
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.text


def test_every_endpoint_answers_errors_in_one_shape(make: Factory) -> None:
    """Each endpoint, called without credentials or with nonsense, fails in the JSON shape."""
    endpoints = make.client.app.state.endpoints  # type: ignore[attr-defined]
    for endpoint in endpoints:
        path = re.sub(r"{(\w+)}", lambda m: _FAKE[m.group(1)], endpoint.path)
        r = make.client.request(
            endpoint.method,
            path,
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        if r.status_code == 200:
            assert endpoint.auth == "none" and endpoint.body is None, endpoint.path
            continue
        assert r.status_code in (400, 401, 404, 422), (endpoint.method, endpoint.path, r.text)
        _assert_error_shape(r)


def test_unknown_routes_wrong_methods_malformed_json(make: Factory) -> None:
    r = make.client.get("/definitely/not/here")
    assert r.status_code == 404 and r.json()["code"] == "route_not_found"
    _assert_error_shape(r)
    r = make.client.delete("/auth/signin")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert r.headers["allow"] == "POST"
    _assert_error_shape(r)
    r = make.client.post(
        "/auth/signin", content=b"[1, 2", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    r = make.client.post("/auth/signin", json=[1, 2])
    assert r.status_code == 422


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_a_wrong_method_is_told_every_method_the_path_takes(make: Factory) -> None:
    """405 names in ``Allow`` all the methods of the path, each of which is then not a 405;
    a path served by several routes (one per method) gets all of them, not the first's."""
    doc = make.client.get("/openapi.json").json()
    checked = 0
    for template, operations in doc["paths"].items():
        path = re.sub(r"{(\w+)}", lambda m: _FAKE[m.group(1)], template)
        documented = {method.upper() for method in operations}
        wrong = next((m for m in _METHODS if m not in documented), None)
        if wrong is None:
            continue
        r = make.client.request(wrong, path)
        if r.status_code != 405:  # another route (e.g. /{pid}/requests/{rid}) takes it
            continue
        _assert_error_shape(r)
        allowed = set(r.headers["allow"].split(", "))
        assert documented <= allowed, (template, allowed)
        assert ("HEAD" in allowed) == ("GET" in allowed), (template, allowed)
        for method in allowed - {"HEAD"}:
            assert make.client.request(method, path).status_code != 405, (method, template)
        checked += 1
    assert checked > 20
    r = make.client.post(f"/{_FAKE['pid']}/departments/{_FAKE['did']}")
    assert r.headers["allow"] == "GET, HEAD, PUT, DELETE"


def test_oversized_body_is_refused_before_parsing(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    r = visitor.send(visitor.new_request_id(), "x" * 300_000)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert (
        make.client.get(f"/{project.id}/leads", headers=project.owner.headers).json()["count"] == 0
    )


def test_invalid_input_loses_nothing(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    r = visitor.send(rid, "x" * 9000)
    assert r.status_code == 422 and r.json()["details"][0]["loc"][:2] == ["body", "text"]
    r = visitor.send(rid, "hi", departmentid="f" * 24)
    assert r.status_code == 404 and r.json()["code"] == "department_not_found"
    assert (
        make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers).status_code == 404
    )
    assert (
        make.client.get(f"/{project.id}/leads", headers=project.owner.headers).json()["count"] == 0
    )


def test_trailing_slashes_are_accepted(make: Factory) -> None:
    project = make.project()
    r = make.client.put(
        f"/{project.id}/project_users/",
        json={"user_available": True},
        headers=project.owner.headers,
    )
    assert r.status_code == 200


def test_openapi_documents_every_endpoint(make: Factory) -> None:
    doc = make.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    endpoints = make.client.app.state.endpoints  # type: ignore[attr-defined]
    assert documented == {(e.method, e.path) for e in endpoints}
    post = doc["paths"]["/{pid}/requests/{rid}/messages"]["post"]
    assert "text" in str(post["requestBody"])
    assert "ErrorPublic" in doc["components"]["schemas"]
