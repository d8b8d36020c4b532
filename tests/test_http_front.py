"""The HTTP front (api.front) and the indexed router (api.dispatch) answer as the Starlette
stack they replace: the same route for every path and method, the same CORS headers, errors,
request ids and trailing-slash handling."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.testclient import TestClient

from frontdesk.api.dispatch import IndexedRouter, Ranked, _RouteIndex
from frontdesk.api.routing import read_body
from frontdesk.app import create_app
from frontdesk.errors import Conflict, PayloadTooLarge
from tests.conftest import Factory, make_settings

OID = "5f0c9a1b2c3d4e5f6a7b8c9d"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _first(routes: list[Ranked], scope: dict[str, Any]) -> tuple[int | None, int | None]:
    """Positions of the first fully and the first partly matching route (Starlette's rule)."""
    full = partial = None
    for rank, route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return rank, partial
        if match is Match.PARTIAL and partial is None:
            partial = rank
    return full, partial


def _sample_paths(routes: list[BaseRoute]) -> set[str]:
    paths = {"/", "/nope", "/nope/deeper", "//", f"/{OID}", f"/{OID}/", "/dashboard",
             "/dashboard/", "/widget", "/widget/", "/demo", "/demo/"}
    for route in routes:
        template = getattr(route, "path", "")
        for value in (OID, "x", "me", "a/b"):
            path = re.sub(r"\{[^}]*\}", value, template)
            paths |= {path, path + "/", path + "/extra", path.rsplit("/", 1)[0] or "/"}
    return paths


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_index_picks_the_route_starlette_would_for_every_path_and_method(
    tmp_path: Path, database_url: str
) -> None:
    app = create_app(make_settings(tmp_path, database_url, demo=True, metrics=True))
    routes = app.router.routes
    everything = list(enumerate(routes))
    index = _RouteIndex(routes)
    paths = _sample_paths(routes)
    assert len(paths) > 300
    for path, method in itertools.product(sorted(paths), METHODS):
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        assert _first(index.candidates(path), scope) == _first(everything, scope), (method, path)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_resolve_finds_the_route_and_parameters_starlette_would(
    tmp_path: Path, database_url: str
) -> None:
    app = create_app(make_settings(tmp_path, database_url, demo=True, metrics=True))
    router = app.router
    assert isinstance(router, IndexedRouter)
    routes = router.routes
    resolved_plainly = 0
    for path, method in itertools.product(sorted(_sample_paths(routes)), METHODS):
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        expected = None
        for route in routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                expected = (route, child)
                break
        served = router.resolve(scope)
        if expected is None:
            assert served is None, (method, path)
            assert "route" not in scope and "path_params" not in scope, (method, path)
            continue
        route, child = expected
        assert scope["route"] is route and scope["router"] is router, (method, path)
        assert {name: scope[name] for name in child} == child, (method, path)
        if served is route.app:
            resolved_plainly += 1
        else:
            assert served == route.handle, (method, path)
    # Most API routes take the short way, which skips their regular expression.
    assert resolved_plainly > 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_front_calls_a_matched_route_without_the_router(
    client: TestClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = make.agent()
    project = make.project(agent)
    through_router: list[str] = []
    real_call = IndexedRouter.__call__

    async def recorded(self: IndexedRouter, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            through_router.append(f"{scope['method']} {scope['path']}")
        await real_call(self, scope, receive, send)

    monkeypatch.setattr(IndexedRouter, "__call__", recorded)
    listed = client.get(f"/{project.id}/requests", headers=agent.headers)
    assert listed.status_code == 200 and "requests" in listed.json()
    assert client.get("/openapi.json").status_code == 200  # a route of another kind
    assert through_router == []
    # What no route fully matches still gets the router's answer.
    assert client.delete(f"/{project.id}/requests", headers=agent.headers).status_code == 405
    assert through_router == [f"DELETE /{project.id}/requests"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_answers_carry_the_request_id_and_the_cors_headers(client: TestClient) -> None:
    plain = client.get("/openapi.json")
    assert plain.headers["vary"] == "Origin"
    assert re.fullmatch(r"[0-9a-f]{32}", plain.headers["x-request-id"])
    assert "access-control-allow-origin" not in plain.headers

    crossed = client.get("/openapi.json", headers={"Origin": "https://shop.example"})
    assert crossed.headers["access-control-allow-origin"] == "*"
    assert crossed.headers["access-control-expose-headers"] == "Retry-After, X-Request-ID"
    assert crossed.headers["vary"] == "Origin"
    assert crossed.headers["x-request-id"] != plain.headers["x-request-id"]

    # An empty Origin is still an Origin to Starlette's CORS middleware.
    empty = client.get("/openapi.json", headers={"Origin": ""})
    assert empty.headers["access-control-allow-origin"] == "*"

    error = client.get("/nope", headers={"Origin": "https://shop.example"})
    assert error.status_code == 404
    assert error.json()["code"] == "route_not_found"
    assert error.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in error.headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_preflight_gets_starlettes_answer_with_a_request_id(client: TestClient) -> None:
    r = client.options("/auth/signinAnonymously", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "PATCH" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-max-age"] == "600"
    assert r.headers["vary"] == (
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
        "Access-Control-Request-Private-Network"
    )
    assert "x-request-id" in r.headers
    refused = client.options("/auth/signinAnonymously", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-something-else",
    })
    assert refused.status_code == 400


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_api_paths_take_a_trailing_slash_and_wrong_methods_get_405(
    client: TestClient, make: Factory
) -> None:
    agent = make.agent()
    project = make.project(agent)
    slashed = client.get(f"/{project.id}/requests/", headers=agent.headers)
    assert slashed.status_code == 200
    assert "requests" in slashed.json()
    wrong = client.delete(f"/{project.id}/requests", headers=agent.headers)
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
    assert wrong.headers["allow"] == "GET, HEAD"
    # Pages keep theirs: /dashboard/ is the shell, /dashboard redirects to it.
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard", follow_redirects=False).status_code in (307, 308)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_errors_raised_by_any_route_become_json_answers(
    tmp_path: Path, database_url: str
) -> None:
    async def conflict(request: Request) -> Response:
        raise Conflict("already there", code="already_there")

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app = create_app(
        make_settings(tmp_path, database_url),
        extra_routes=[Route("/test/conflict", conflict), Route("/test/broken", broken)],
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/test/conflict")
        assert (r.status_code, r.json()["code"]) == (409, "already_there")
        assert "x-request-id" in r.headers
        r = client.get("/test/broken")
        assert r.status_code == 500
        assert r.json()["message"] == "internal error; it has been logged"
    with TestClient(app, raise_server_exceptions=True) as client, pytest.raises(RuntimeError):
        client.get("/test/broken")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_endpoints_json_answer_carries_its_type_and_length(make: Factory) -> None:
    """Sent without building a Starlette Response (api/routing.py): the same headers."""
    project = make.project()
    r = make.client.get(f"/{project.id}/requests", headers=project.owner.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content) > 0
    assert r.json()["requests"] == []


def _request(messages: list[dict[str, Any]], headers: list[tuple[bytes, bytes]]) -> Request:
    queue = iter(messages)

    async def receive() -> dict[str, Any]:
        return next(queue)

    return Request({"type": "http", "headers": headers}, receive)


def test_a_body_is_read_from_its_messages_within_the_limit() -> None:
    """``read_body`` reads the server's messages itself (not Request.stream()): chunks are
    joined, a body over the limit is refused even without a content-length, and a client gone
    away is a ClientDisconnect."""
    chunks = [{"type": "http.request", "body": b'{"a":', "more_body": True},
              {"type": "http.request", "body": b"1}", "more_body": False}]
    assert anyio.run(read_body, _request(chunks, []), 100) == b'{"a":1}'
    with pytest.raises(PayloadTooLarge):
        anyio.run(read_body, _request(chunks, []), 6)  # no content-length to refuse early
    with pytest.raises(PayloadTooLarge):
        anyio.run(read_body, _request(chunks, [(b"content-length", b"7")]), 6)
    gone = [chunks[0], {"type": "http.disconnect"}]
    with pytest.raises(ClientDisconnect):
        anyio.run(read_body, _request(gone, []), 100)
