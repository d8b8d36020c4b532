"""Real servers for the concurrency suite: many HTTP clients at once, never mocks.

Two ``frontdesk serve`` processes share the database (SQLite or PostgreSQL) and Redis, and
clients are spread over both, so competing commands run in different processes on different
connections. The servers live for the package; every test makes its own agent and project,
and no server may log an unexpected error.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import new_pg_schema, sign_customer_token
from tests.realtime import live_api
from tests.realtime.live_api import Session
from tests.realtime.served import shared_env, two_served

TIMEOUT = 30.0
_ENV = {
    "check_responses": "true",
    "signin_rate_per_ip": "0",
    "signin_rate_per_project": "0",
    "message_rate_per_ip": "0",
    "message_rate_per_project": "0",
    "failed_signin_rate_per_ip": "0",
    "failed_signin_rate_per_project": "0",
}


@dataclass
class Cluster:
    """The servers of one backend."""

    backend: str
    urls: list[str]

    @asynccontextmanager
    async def api(self) -> AsyncIterator[Api]:
        """An Api whose calls go round-robin over the servers, closed with the block."""
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(base_url=url, timeout=TIMEOUT, limits=limits)
                )
                for url in self.urls
            ]
            yield Api(clients, self.urls)

    def run(self, scenario: Callable[[Api], Awaitable[None]]) -> None:
        """Run ``scenario`` with an Api over this cluster's servers."""

        async def main() -> None:
            async with self.api() as api:
                await scenario(api)

        asyncio.run(main())


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    Cluster
]:
    """Two server processes sharing one database (a SQLite file or a PostgreSQL schema) and
    Redis: competing commands run in different processes, on different connections."""
    tmp_path: Path = tmp_path_factory.mktemp("cluster")
    if request.param == "sqlite":
        yield from _two_servers(request.param, tmp_path, f"sqlite:///{tmp_path / 'fd.db'}")
    else:
        with new_pg_schema() as url:
            yield from _two_servers(request.param, tmp_path, url)


def _two_servers(backend: str, tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    # The first server migrates the schema before the second starts.
    with two_served(tmp_path, shared_env(database_url, **_ENV)) as (first, second):
        yield Cluster(backend, [first.url, second.url])
    for server in (first, second):  # an unexpected failure answers 500 and is logged
        log = server.log.read_text()
        assert "Traceback" not in log, log[-5000:]


class Api(live_api.Api):
    """REST calls spread round-robin over the cluster's servers."""

    def __init__(self, clients: list[httpx.AsyncClient], urls: list[str]) -> None:
        self.clients = clients
        self.urls = urls
        self._next = itertools.cycle(range(len(clients)))

    async def raw(self, method: str, path: str, token: str | None = None, **kw: Any) -> (
        httpx.Response
    ):
        headers = {"Authorization": token} if token else {}
        headers.update(kw.pop("headers", {}))
        client = self.clients[next(self._next)]
        return await client.request(method, path, headers=headers, **kw)

    async def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        r = await self.raw(method, path, token, **kw)
        assert r.status_code == 200, (method, path, r.status_code, r.text)
        return r.json()

    async def secret(self, owner: Session, project_id: str) -> str:
        key = await self.call("POST", f"/{project_id}/keys/generate", owner.token)
        return str(key["jwtSecret"])

    async def customer_signin(
        self, project_id: str, secret: str, customer_id: str, *, anonymous: str | None = None
    ) -> httpx.Response:
        token = sign_customer_token(project_id, secret, _id=customer_id, jti=uuid.uuid4().hex)
        headers = {"X-Frontdesk-Anonymous-Token": anonymous} if anonymous else {}
        return await self.raw(
            "POST", "/auth/signinWithCustomToken", "JWT " + token, headers=headers
        )
