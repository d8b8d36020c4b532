"""What an operator watches: /health, /ready, /metrics, request ids and the request log."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from websockets.asyncio.client import connect

from frontdesk.app import create_app
from frontdesk.realtime.broker import InMemoryBroker
from tests.conftest import REDIS_URL, Factory, make_settings, sign_customer_token
from tests.live import live_server
from tests.realtime import wsclient
from tests.realtime.live_api import TIMEOUT, Session, Socket, api_on, open_socket
from tests.realtime.served import served
from tests.relay import relay_to


def _ready_becomes(client: TestClient, status: int) -> httpx.Response:
    """GET /ready until it answers ``status`` (a pool reconnects on its next use), 10 s at most."""
    deadline = time.monotonic() + 10
    while True:
        r = client.get("/ready")
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


# ---- /health and /ready ---------------------------------------------------------------------


@pytest.mark.postgres
def test_ready_follows_postgresql_while_health_stays_up(tmp_path: Path, pg_schema: str) -> None:
    with relay_to("127.0.0.1", 5432) as relay:
        url = pg_schema.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
        app = create_app(make_settings(tmp_path, url, ready_timeout=1.0))
        with TestClient(app) as client:
            r = client.get("/ready")
            assert r.status_code == 200, r.text
            assert r.json() == {"success": True, "status": "ready", "checks": {"database": "ok"}}

            relay.stop()
            r = _ready_becomes(client, 503)
            assert r.status_code == 503, r.text
            body = r.json()
            assert (body["success"], body["code"]) == (False, "not_ready")
            assert body["details"] == [{"check": "database", "status": "unreachable"}]
            # Liveness does not depend on the database: the process itself is fine.
            health = client.get("/health")
            assert (health.status_code, health.json()["status"]) == (200, "ok")

            relay.start()
            r = _ready_becomes(client, 200)
            assert r.status_code == 200, r.text
            assert r.json()["checks"] == {"database": "ok"}


@pytest.mark.redis
def test_ready_follows_redis(tmp_path: Path) -> None:
    redis_port = int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    with relay_to("127.0.0.1", redis_port) as relay:
        settings = make_settings(
            tmp_path, f"sqlite:///{tmp_path / 'fd.db'}",
            redis_url=f"redis://127.0.0.1:{relay.port}/0", ready_timeout=1.0,
        )
        with TestClient(create_app(settings, broker=InMemoryBroker())) as client:
            r = client.get("/ready")
            assert r.status_code == 200, r.text
            assert r.json()["checks"] == {"database": "ok", "redis": "ok"}

            relay.stop()
            r = _ready_becomes(client, 503)
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "not_ready"
            assert "redis unreachable" in r.json()["message"]
            assert r.json()["details"] == [
                {"check": "database", "status": "ok"},
                {"check": "redis", "status": "unreachable"},
            ]

            relay.start()
            r = _ready_becomes(client, 200)
            assert r.status_code == 200, r.text
            assert r.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.postgres
def test_ready_refuses_a_database_on_a_closed_port(tmp_path: Path, pg_schema: str) -> None:
    with relay_to("127.0.0.1", 5432) as relay:
        url = pg_schema.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
        with TestClient(create_app(make_settings(tmp_path, url, ready_timeout=1.0))) as client:
            relay.stop()  # and nothing listens there any more
            started = time.monotonic()
            r = client.get("/ready")
            assert time.monotonic() - started < 5  # answered within its deadline
            assert r.status_code == 503, r.text
            assert r.json()["details"] == [{"check": "database", "status": "unreachable"}]


def test_health_and_ready_are_documented_and_public(make: Factory) -> None:
    paths = make.client.get("/openapi.json").json()["paths"]
    assert "get" in paths["/health"] and "security" not in paths["/health"]["get"]
    assert "503" in paths["/ready"]["get"]["responses"]
    assert "/metrics" not in paths  # Prometheus text, not part of the JSON API


# ---- /metrics -------------------------------------------------------------------------------


def _families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(families: dict[str, Any], name: str, sample: str, **labels: str) -> float:
    for s in families[name].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return float(s.value)
    raise AssertionError(f"no {sample}{labels} in {families[name].samples}")


def test_metrics_are_off_unless_turned_on(app_factory: Any) -> None:
    client = app_factory()
    r = client.get("/metrics")
    assert (r.status_code, r.json()["code"]) == (404, "route_not_found")


def test_metrics_parse_and_label_by_route_template_only(app_factory: Any) -> None:
    client = app_factory(metrics=True, signin_rate_per_ip=2)
    make = Factory(client)
    project = make.project()
    visitor = make.visitor(project, authenticated=True, email="someone@example.com")
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello metrics").status_code == 200
    assert client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers).status_code \
        == 200
    for _ in range(3):  # the third anonymous sign-in from this address is refused
        last = client.post("/auth/signinAnonymously", json={"id_project": project.id})
    assert (last.status_code, last.json()["code"]) == (429, "rate_limited")

    with wsclient.signed_in(client, visitor.token):
        r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    families = _families(r.text)

    assert _value(families, "frontdesk_http_requests", "frontdesk_http_requests_total",
                  method="POST", route="/{pid}/requests/{rid}/messages", status="200") == 1
    assert _value(families, "frontdesk_http_requests", "frontdesk_http_requests_total",
                  method="GET", route="/{pid}/requests/{rid}", status="200") == 1
    assert _value(families, "frontdesk_http_request_duration_seconds",
                  "frontdesk_http_request_duration_seconds_count",
                  method="POST", route="/auth/signinAnonymously", status="429") == 1
    assert _value(families, "frontdesk_rate_limit_refusals",
                  "frontdesk_rate_limit_refusals_total", transport="http", code="rate_limited") == 1
    assert _value(families, "frontdesk_websocket_connections",
                  "frontdesk_websocket_connections") == 1
    assert _value(families, "frontdesk_events_published", "frontdesk_events_published_total",
                  type="message") >= 1
    assert "process_resident_memory_bytes" in r.text

    # Labels come from templates and codes only: no id, token or address leaks into them.
    routes = {s.labels["route"] for s in families["frontdesk_http_requests"].samples}
    assert all(route.startswith("/") or route == "unmatched" for route in routes), routes
    for secret in (project.id, rid, visitor.token.split(" ")[-1], project.owner.email,
                   "someone@example.com", project.owner.token.split(" ")[-1]):
        assert secret not in r.text


def test_metrics_count_websocket_refusals(app_factory: Any) -> None:
    client = app_factory(metrics=True, ws_sockets_per_session=1)
    make = Factory(client)
    visitor = make.visitor(make.project())
    with wsclient.signed_in(client, visitor.token):
        with wsclient.connect(client, visitor.token) as second:
            assert second.expect("error")["code"] == "too_many_sockets"
        families = _families(client.get("/metrics").text)
    assert _value(families, "frontdesk_rate_limit_refusals", "frontdesk_rate_limit_refusals_total",
                  transport="websocket", code="too_many_sockets") == 1


@pytest.mark.postgres
def test_metrics_show_the_postgresql_pool(tmp_path: Path, pg_schema: str) -> None:
    app = create_app(make_settings(tmp_path, pg_schema, metrics=True))
    with TestClient(app) as client:
        families = _families(client.get("/metrics").text)
    pool = {s.labels["state"]: s.value for s in families["frontdesk_db_pool_connections"].samples}
    assert set(pool) == {"open", "idle", "max"}
    assert 1 <= pool["open"] <= pool["max"] == 10 and pool["idle"] <= pool["open"]


def test_metrics_can_require_a_bearer_token(app_factory: Any) -> None:
    client = app_factory(metrics=True, metrics_token="scrape-" + "k" * 30)
    wrong = {"Authorization": "Bearer scrape-nope"}
    for headers in ({}, wrong):  # answered as if there were no such route
        r = client.get("/metrics", headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "route_not_found")
    right = {"Authorization": "Bearer scrape-" + "k" * 30}
    r = client.get("/metrics", headers=right)
    assert r.status_code == 200 and "frontdesk_http_requests" in r.text


# ---- request ids ----------------------------------------------------------------------------


def test_request_id_from_a_trusted_proxy_is_kept_and_returned(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fd.db'}",
                             trusted_proxies="10.0.0.0/8, 127.0.0.1")
    with live_server(settings) as server:
        r = httpx.get(server.url + "/health", headers={"X-Request-ID": "edge-42.a:b"})
        assert r.headers["x-request-id"] == "edge-42.a:b"
        # Insane ones are replaced: too long, or characters that could forge log lines.
        for insane in ("x" * 129, "a b", "id\u00e9".encode(), "id;drop"):
            r = httpx.get(server.url + "/health", headers={"X-Request-ID": insane})
            assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]), insane
        # Errors carry it too.
        r = httpx.get(server.url + "/no/such/route", headers={"X-Request-ID": "edge-43"})
        assert (r.status_code, r.headers["x-request-id"]) == (404, "edge-43")


def test_request_id_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fd.db'}",
                             trusted_proxies="10.0.0.0/8")
    with live_server(settings) as server:
        ids = {httpx.get(server.url + "/health", headers={"X-Request-ID": "forged"})
               .headers["x-request-id"] for _ in range(2)}
    assert "forged" not in ids and len(ids) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids)


# ---- the request log: one line a request, and no secret in it ------------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_the_log_at_debug_level(tmp_path: Path, log_format: str) -> None:
    server_secret = "server-secret-" + uuid.uuid4().hex + uuid.uuid4().hex
    with served(tmp_path, log_level="debug", log_format=log_format, secret=server_secret,
                trusted_proxies="127.0.0.1") as server:
        secrets = asyncio.run(_use_every_secret(server.url))
        secrets["FRONTDESK_SECRET"] = server_secret
        deadline = time.monotonic() + TIMEOUT
        while "edge-final" not in server.log.read_text():
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.1)
    log = server.log.read_text()
    for name, value in secrets.items():
        assert value not in log, f"the {name} is in the log"

    lines = log.splitlines()
    if log_format == "json":
        entries = [json.loads(line) for line in lines]  # every line is one JSON object
        access = [e for e in entries if e["logger"] == "frontdesk.access"]
        wrong = [e for e in access if e["route"] == "/auth/signin" and e["status"] == 401]
        assert wrong and wrong[0]["method"] == "POST" and wrong[0]["client"] == "127.0.0.1"
        assert isinstance(wrong[0]["duration_ms"], float)
        assert re.fullmatch(r"[0-9a-f]{32}", wrong[0]["request_id"])
        final = [e for e in access if e["request_id"] == "edge-final"]
        assert [(e["route"], e["status"]) for e in final] == [("/health", 200)]
        sockets = [e for e in access if e["route"] == "/ws"]
        assert sockets and all(e["status"] == 101 for e in sockets)
    else:
        access = [line for line in lines if line.startswith("INFO frontdesk.access ")]
        assert any(" POST /auth/signin 401 " in line for line in access), access
        assert any(" GET /ws 101 " in line for line in access), access
        # One line per request: uvicorn's own access log is off.
        assert sum("edge-final" in line for line in lines) == 1
    assert not any("?" in line for line in access)  # never a query string


async def _use_every_secret(url: str) -> dict[str, str]:
    """Sign up, sign in, sign a visitor in with a customer token, talk, open sockets with the
    token in the URL and in a frame, fail a few times; returns every secret used."""
    password = "pw-" + uuid.uuid4().hex
    wrong_password = "wrong-" + uuid.uuid4().hex
    text = "text-" + uuid.uuid4().hex
    async with api_on(url) as api:
        http = api.http
        email = f"agent-{uuid.uuid4().hex[:8]}@example.com"
        await api.call("POST", "/auth/signup", json={"email": email, "password": password})
        agent_token = (await api.call("POST", "/auth/signin",
                                      json={"email": email, "password": password}))["token"]
        r = await http.post("/auth/signin", json={"email": email, "password": wrong_password})
        assert r.status_code == 401
        pid = await api.project(_session(agent_token))
        key = await api.call("POST", f"/{pid}/keys/generate", agent_token)
        customer_token = sign_customer_token(pid, key["jwtSecret"], _id="cust-1", email=email)
        visitor_token = (await api.call(
            "POST", "/auth/signinWithCustomToken", "JWT " + customer_token))["token"]
        forged = sign_customer_token(pid, "not-the-secret-" + "q" * 30, _id="cust-2")
        r = await http.post("/auth/signinWithCustomToken",
                            headers={"Authorization": "JWT " + forged})
        assert r.status_code == 401
        rid = f"support-group-{pid}-{uuid.uuid4().hex}"
        await api.send(_session(visitor_token), pid, rid, text + "-first")

        visitor_socket = await open_socket(url, visitor_token)  # the token in the URL
        await visitor_socket.subscribe(f"/{pid}/requests/{rid}/messages")
        await api.send(_session(visitor_token), pid, rid, text + "-live")
        await visitor_socket.expect("publish")
        agent_socket = Socket(await connect(url.replace("http:", "ws:") + "/ws"))
        await agent_socket.send("authenticate", token=agent_token)  # the token in a frame
        await agent_socket.expect("authenticated")
        for socket_ in (visitor_socket, agent_socket):
            await socket_.ws.close()

        r = await http.post(f"/{pid}/requests/{rid}/messages",
                            json={"text": text, "attributes": "not an object"},
                            headers={"Authorization": visitor_token})
        assert r.status_code == 422, r.text  # an error path with the text in the refused body
        r = await http.get("/health", headers={"X-Request-ID": "edge-final"})
        assert r.status_code == 200
    return {
        "password": password,
        "wrong password": wrong_password,
        "agent session token": agent_token.split(" ")[-1],
        "agent token's signature": agent_token.split(".")[-1],
        # Even a piece of one: a log that shortens a frame keeps its beginning and its end.
        "end of the agent token": agent_token[-16:],
        "visitor session token": visitor_token.split(" ")[-1],
        "visitor token's signature": visitor_token.split(".")[-1],
        "end of the visitor token": visitor_token[-16:],
        "customer token": customer_token,
        "customer token's claims": customer_token.split(".")[1],
        "project secret": key["jwtSecret"],
        "message text": text,
    }


def _session(token: str) -> Session:
    return Session(token, "")


def test_requests_are_logged_with_their_template_in_process(
    app_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = app_factory()
    make = Factory(client)
    project = make.project()
    with caplog.at_level("INFO", logger="frontdesk.access"):
        r = client.get(f"/projects/{project.id}?token=abc", headers=project.owner.headers)
    assert r.status_code == 200
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "frontdesk.access"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /projects/{pid} 200 ")
    assert project.id not in lines[0] and "token" not in lines[0]
    assert lines[0].endswith("id=" + r.headers["x-request-id"])

