"""Fixtures are factories: every test gets a fresh database and builds what it needs.

API tests run against SQLite and PostgreSQL (``backend`` fixture). PostgreSQL tests use a
fresh schema each; where the server is missing they skip locally and fail when ``CI=true``.
"""

from __future__ import annotations

import base64
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import limits.aio.storage.memory
import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

import frontdesk.actions.limits
from frontdesk.app import create_app
from frontdesk.clock import Clock, FakeClock
from frontdesk.settings import Settings
from tests.mailbox import Mailbox, mail_settings, running_mailbox

PG_URL = os.environ.get("FRONTDESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"
# Every server a test starts checks its answers and events against the closed public models:
# in-process apps through make_settings, ``frontdesk serve`` subprocesses through this.
os.environ["FRONTDESK_CHECK_RESPONSES"] = "true"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a service is missing, except in CI, where a missing service is a failure."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI=true: tests that need it must run)")
    pytest.skip(message)


@contextmanager
def new_pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards; yields a database URL selecting it."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import asyncio

    import asyncpg

    schema = "t_" + uuid.uuid4().hex[:16]

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(PG_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?search_path={schema}"
    finally:
        asyncio.run(run(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards; yields a database URL selecting it."""
    with new_pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'frontdesk.db'}"
    url: str = request.getfixturevalue("pg_schema")
    return url


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "secret": "test-secret-" + "x" * 40,
        "password_hash_memory_kib": 1024,
        "password_hash_time_cost": 1,
        "check_responses": True,
        # Abuse limits are off unless a test turns one on: suites make many calls a minute.
        "signin_rate_per_ip": 0,
        "signin_rate_per_project": 0,
        "message_rate_per_ip": 0,
        "message_rate_per_project": 0,
        "failed_signin_rate_per_ip": 0,
        "failed_signin_rate_per_project": 0,
        "failed_passwords_per_ip": 0,
        "failed_passwords_per_account": 0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class _Caller:
    """Someone signed in through the API: its client, session token and user JSON."""

    client: TestClient
    token: str
    user: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.user["_id"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.token}


@dataclass
class Agent(_Caller):
    email: str
    password: str


@dataclass
class Visitor(_Caller):
    project_id: str

    def new_request_id(self) -> str:
        return f"support-group-{self.project_id}-{uuid.uuid4().hex}"

    def send(self, request_id: str, text: str, **body: Any) -> Any:
        return self.client.post(
            f"/{self.project_id}/requests/{request_id}/messages",
            json={"text": text, **body},
            headers=self.headers,
        )


@dataclass
class Project:
    id: str
    owner: Agent
    secret: str | None = None
    kid: str | None = None
    json: dict[str, Any] = field(default_factory=dict)


def sign_customer_token(
    project_id: str,
    secret: str,
    *,
    algorithm: str = "HS256",
    kid: str | None = None,
    ttl: int = 600,
    **claims: Any,
) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": "userexternal",
        "aud": f"https://tiledesk.com/projects/{project_id}",
        "iat": now,
        "exp": now + ttl,
    }
    body.update(claims)
    headers = {"kid": kid} if kid else None
    return jwt.encode(body, secret, algorithm=algorithm, headers=headers)


class Factory:
    """Builds agents, projects and visitors through the public API."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._n = 0

    def agent(self, *, email: str | None = None, password: str = "correct horse 1") -> Agent:
        self._n += 1
        email = email or f"agent{self._n}-{uuid.uuid4().hex[:6]}@example.com"
        r = self.client.post(
            "/auth/signup",
            json={
                "email": email,
                "password": password,
                "firstname": "Ada",
                "lastname": f"N{self._n}",
            },
        )
        assert r.status_code == 200, r.text
        r = self.client.post("/auth/signin", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        body = r.json()
        return Agent(self.client, body["token"], body["user"], email, password)

    def project(self, owner: Agent | None = None, *, with_secret: bool = True) -> Project:
        owner = owner or self.agent()
        r = self.client.post("/projects", json={"name": "Acme"}, headers=owner.headers)
        assert r.status_code == 200, r.text
        project = Project(r.json()["_id"], owner, json=r.json())
        if with_secret:
            key = self.client.post(f"/{project.id}/keys/generate", headers=owner.headers).json()
            project.secret, project.kid = key["jwtSecret"], key["kid"]
        return project

    def invite(self, project: Project, email: str, role: str = "agent") -> dict[str, Any]:
        """The owner's invitation for ``email``: the invite answer, with its one-time token."""
        r = self.client.post(
            f"/{project.id}/project_users/invite",
            json={"email": email, "role": role},
            headers=project.owner.headers,
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def member(self, project: Project, role: str = "agent") -> Agent:
        """A new agent in ``project``: invited by the owner, accepted with the token."""
        agent = self.agent()
        token = self.invite(project, agent.email, role)["token"]
        r = self.client.post(
            "/auth/invitations/accept", json={"token": token}, headers=agent.headers
        )
        assert r.status_code == 200, r.text
        return agent

    def visitor(
        self, project: Project, *, authenticated: bool = False, **claims: Any
    ) -> Visitor:
        if authenticated:
            assert project.secret is not None
            claims.setdefault("_id", "customer-" + uuid.uuid4().hex[:8])
            token = sign_customer_token(project.id, project.secret, **claims)
            r = self.client.post(
                "/auth/signinWithCustomToken", headers={"Authorization": "JWT " + token}
            )
        else:
            r = self.client.post(
                "/auth/signinAnonymously", json={"id_project": project.id, **claims}
            )
        assert r.status_code == 200, r.text
        body = r.json()
        return Visitor(self.client, body["token"], body["user"], project.id)


@pytest.fixture
def app_factory(tmp_path: Path, database_url: str) -> Iterator[Any]:
    with ExitStack() as running:

        def build(clock: Clock | None = None, **overrides: Any) -> TestClient:
            app = create_app(make_settings(tmp_path, database_url, **overrides), clock=clock)
            return running.enter_context(TestClient(app, raise_server_exceptions=True))

        yield build


@pytest.fixture
def client(app_factory: Any) -> TestClient:
    c: TestClient = app_factory()
    return c


@pytest.fixture
def make(client: TestClient) -> Factory:
    return Factory(client)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on loopback that keeps what it receives."""
    with running_mailbox() as box:
        yield box


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
def mailing(mailbox: Mailbox, app_factory: Any, clock: FakeClock) -> Factory:
    """A server that sends its mail to `mailbox` and reads the time from `clock`.

    `mailbox` comes first so that it stops last: stopped before the server, it would cut an
    e-mail still being sent, and its side of that connection would be left open. A test that
    takes both fixtures itself lists them in this order too."""
    return Factory(app_factory(clock=clock, **mail_settings(mailbox)))


class LimitsTime:
    """The wall clock the ``limits`` library counts windows by, moved forward on demand (it
    reads ``time.time()`` and takes no clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def limits_time(monkeypatch: pytest.MonkeyPatch) -> LimitsTime:
    shifted = LimitsTime()
    monkeypatch.setattr(limits.aio.storage.memory, "time", shifted)
    monkeypatch.setattr(frontdesk.actions.limits, "time", shifted)
    return shifted


def basic(email: str, password: str) -> dict[str, str]:
    """HTTP Basic credentials as an Authorization header."""
    token = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": "Basic " + token}


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2 verification the server runs, by the stored hash it checked against."""
    seen: list[str] = []
    real_verify = PasswordHasher.verify

    def counting(self: PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        seen.append(stored if isinstance(stored, str) else stored.decode())
        return real_verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return seen
