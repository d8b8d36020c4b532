"""No call holds one pooled PostgreSQL connection while it waits for a second: with a pool
of one connection, the everyday calls all answer. (Under load a pool is often all held by
transactions; one that then waits for another connection waits forever.)"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings, sign_customer_token
from tests.live import live_server

pytestmark = pytest.mark.postgres


def test_everyday_calls_answer_with_a_pool_of_one_connection(
    pg_schema: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, pg_schema, database_pool_size=1)
    with live_server(settings) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def call(method: str, path: str, token: str | None = None, **kwargs: object) -> dict:
            headers = {"Authorization": token} if token else {}
            r = http.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        email = f"pool-{uuid.uuid4().hex[:8]}@example.com"
        call("POST", "/auth/signup", json={"email": email, "password": "correct horse 1",
                                           "firstname": "Ada", "lastname": "Pool"})
        agent = call("POST", "/auth/signin",
                     json={"email": email, "password": "correct horse 1"})["token"]
        project = call("POST", "/projects", agent, json={"name": "Pool"})["_id"]
        secret = call("POST", f"/{project}/keys/generate", agent)["jwtSecret"]
        anonymous = call("POST", "/auth/signinAnonymously", json={"id_project": project})
        customer_token = sign_customer_token(project, secret, _id="customer-pool")
        for _ in range(2):  # a new customer, then a returning one
            customer = call("POST", "/auth/signinWithCustomToken",
                            "JWT " + customer_token)
        for visitor in (anonymous, customer):
            server.services.project_cache.clear()  # its first message reads the project's
            rid = f"support-group-{project}-{uuid.uuid4().hex}"
            path = f"/{project}/requests/{rid}/messages"
            call("POST", path, visitor["token"], json={"text": "hello"})
            call("POST", path, visitor["token"], json={"text": "again"})
            call("POST", path, agent, json={"text": "hi, how can I help?"})
        listed = call("GET", f"/{project}/requests?status=open&limit=40&view=inbox", agent)
        assert len(listed["requests"]) == 2
