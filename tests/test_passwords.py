"""Password checks: limits on failures per address and per account, HTTP Basic remembered
after one verification, hashing off the event loop with a bounded queue."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from frontdesk.actions.limits import RateLimits
from frontdesk.app import create_app
from frontdesk.auth.basic_cache import BasicCredentialCache
from frontdesk.auth.passwords import Passwords
from frontdesk.clock import FakeClock
from frontdesk.errors import RateLimited, ServiceUnavailable
from frontdesk.services import Services
from frontdesk.settings import Settings
from tests.conftest import Factory, LimitsTime, basic, make_settings

PEER_HEADER = "x-test-peer"


class PeerFromHeader:
    """Lets a test call from several client addresses: the peer is taken from a header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name.decode() == PEER_HEADER:
                    scope = dict(scope, client=(value.decode(), 40000))
        await self.app(scope, receive, send)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def build(
    tmp_path: Path, database_url: str, clock: FakeClock
) -> Iterator[Any]:
    with ExitStack() as running:

        def start(**overrides: Any) -> TestClient:
            app = create_app(make_settings(tmp_path, database_url, **overrides), clock=clock)
            return running.enter_context(TestClient(PeerFromHeader(app)))

        yield start


def services_of(client: TestClient) -> Services:
    wrapper = client.app
    assert isinstance(wrapper, PeerFromHeader)
    services: Services = wrapper.app.state.services  # type: ignore[attr-defined]
    return services


def signin(client: TestClient, email: str, password: str, peer: str = "10.0.0.1") -> Any:
    return client.post("/auth/signin", json={"email": email, "password": password},
                       headers={PEER_HEADER: peer})


# Failure limits


def test_wrong_passwords_from_one_address_lock_it_out_even_with_the_right_one(
    build: Any, limits_time: LimitsTime, verifications: list[str]
) -> None:
    client = build(failed_passwords_per_ip=3)
    agent = Factory(client).agent()
    for _ in range(3):
        assert signin(client, agent.email, "wrong pass").status_code == 401
    hashed = len(verifications)
    refused = signin(client, agent.email, agent.password)
    assert refused.status_code == 429
    assert refused.json() == {"success": False, "code": "too_many_failed_signins",
                              "message": "too many failed sign-ins; retry in 60 s"}
    assert refused.headers["retry-after"] == "60"  # 3 a minute, counted from the first
    assert len(verifications) == hashed  # refused before any hashing
    # Another address is not affected; this one gets an attempt back with time.
    assert signin(client, agent.email, agent.password, peer="10.0.0.2").status_code == 200
    limits_time.advance(60)
    assert signin(client, agent.email, agent.password).status_code == 200


def test_basic_credentials_count_against_the_same_limit_on_any_endpoint(
    build: Any, verifications: list[str]
) -> None:
    client = build(failed_passwords_per_ip=2)
    agent = Factory(client).agent()
    peer = {PEER_HEADER: "10.0.0.9"}
    for path in ("/projects", "/auth/logout"):
        r = client.request("GET" if path == "/projects" else "POST", path,
                           headers={**basic(agent.email, "wrong pass"), **peer})
        assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    hashed = len(verifications)
    r = client.get("/projects", headers={**basic(agent.email, agent.password), **peer})
    assert r.status_code == 429 and r.json()["code"] == "too_many_failed_signins"
    assert 59 <= int(r.headers["retry-after"]) <= 60
    assert signin(client, agent.email, agent.password, peer="10.0.0.9").status_code == 429
    assert len(verifications) == hashed


def test_an_account_is_limited_across_addresses_and_others_are_not(
    build: Any, limits_time: LimitsTime
) -> None:
    client = build(failed_passwords_per_ip=100, failed_passwords_per_account=4)
    make = Factory(client)
    victim, bystander = make.agent(), make.agent()
    for n in range(4):
        assert signin(client, victim.email.upper(), "wrong pass", f"10.1.0.{n}").status_code == 401
    refused = signin(client, victim.email, victim.password, "10.2.0.1")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_failed_signins"
    assert 59 <= int(refused.headers["retry-after"]) <= 60
    assert signin(client, bystander.email, bystander.password, "10.1.0.0").status_code == 200
    limits_time.advance(60)  # window-based: the account is never locked for longer
    assert signin(client, victim.email, victim.password, "10.2.0.1").status_code == 200


def test_right_passwords_do_not_use_up_the_limit(build: Any) -> None:
    client = build(failed_passwords_per_ip=2, failed_passwords_per_account=2)
    agent = Factory(client).agent()
    for _ in range(10):
        assert signin(client, agent.email, agent.password).status_code == 200
        r = client.get("/projects", headers=basic(agent.email, agent.password))
        assert r.status_code == 200


def test_an_attempt_given_back_never_leaves_more_than_the_limit(limits_time: LimitsTime) -> None:
    limits = RateLimits(Settings(failed_passwords_per_ip=2, failed_passwords_per_account=100))

    async def attempts_until_refused(ip: str) -> int:
        for taken in range(10):
            try:
                await limits.take_password_attempt(ip, "a@example.com")
            except RateLimited:
                return taken
        return 10

    async def scenario() -> list[int]:
        await limits.take_password_attempt("10.0.0.1", "a@example.com")
        for _ in range(2):  # the second one has nothing to give back
            await limits.return_password_attempt("10.0.0.1", "a@example.com")
        within = await attempts_until_refused("10.0.0.1")
        await limits.take_password_attempt("10.0.0.2", "a@example.com")
        limits_time.advance(61)  # the window it was taken in ends before it is given back
        await limits.return_password_attempt("10.0.0.2", "a@example.com")
        return [within, await attempts_until_refused("10.0.0.2")]

    assert asyncio.run(scenario()) == [2, 2]


# HTTP Basic remembered


def test_basic_credentials_are_verified_once_for_repeated_calls(
    build: Any, verifications: list[str]
) -> None:
    client = build()
    agent = Factory(client).agent()
    before = len(verifications)
    for _ in range(20):
        r = client.get("/projects", headers=basic(agent.email, agent.password))
        assert r.status_code == 200
    assert len(verifications) - before == 1
    # A wrong password is never taken for the remembered right one, and is not remembered.
    for _ in range(2):
        r = client.get("/projects", headers=basic(agent.email, agent.password + "x"))
        assert r.status_code == 401
    assert len(verifications) - before == 3


def test_a_changed_password_voids_the_remembered_one(
    build: Any, verifications: list[str]
) -> None:
    client = build()
    agent = Factory(client).agent()
    assert client.get("/projects", headers=basic(agent.email, agent.password)).status_code == 200
    services = services_of(client)

    async def change_password() -> None:
        new_hash = await services.passwords.hash("a new password")
        async with services.db.transaction() as tx:
            await tx.execute("UPDATE users SET password_hash = $2 WHERE email = $1",
                             agent.email, new_hash)

    assert client.portal is not None
    client.portal.call(change_password)
    before = len(verifications)
    r = client.get("/projects", headers=basic(agent.email, agent.password))
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    assert len(verifications) == before + 1  # checked again, not answered from memory
    r = client.get("/projects", headers=basic(agent.email, "a new password"))
    assert r.status_code == 200


def test_a_removed_account_is_not_remembered(build: Any) -> None:
    client = build()
    agent = Factory(client).agent()
    assert client.get("/projects", headers=basic(agent.email, agent.password)).status_code == 200
    services = services_of(client)

    async def remove_account() -> None:
        async with services.db.transaction() as tx:
            await tx.execute("DELETE FROM sessions WHERE subject_id = $1", agent.id)
            await tx.execute("DELETE FROM users WHERE email = $1", agent.email)

    assert client.portal is not None
    client.portal.call(remove_account)
    r = client.get("/projects", headers=basic(agent.email, agent.password))
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"


def test_the_cache_keeps_no_password_and_forgets_with_time() -> None:
    clock = FakeClock()
    cache = BasicCredentialCache(clock, "s" * 48, ttl=300, max_entries=2)
    cache.remember("a@x.example", "hunter2 hunter2", "u1", "$argon2id$h1")
    assert cache.matches("a@x.example", "hunter2 hunter2", "u1", "$argon2id$h1")
    assert not cache.matches("a@x.example", "hunter2 hunter3", "u1", "$argon2id$h1")
    assert not cache.matches("b@x.example", "hunter2 hunter2", "u1", "$argon2id$h1")
    assert "hunter2" not in repr(vars(cache))
    clock.advance(300)
    assert not cache.matches("a@x.example", "hunter2 hunter2", "u1", "$argon2id$h1")
    for n in range(3):
        cache.remember(f"{n}@x.example", "pw", f"u{n}", "h")
    assert len(cache) == 2
    assert not cache.matches("0@x.example", "pw", "u0", "h")  # the oldest went first
    assert cache.matches("2@x.example", "pw", "u2", "h")
    other_secret = BasicCredentialCache(clock, "t" * 48, ttl=300)
    assert not other_secret.matches("2@x.example", "pw", "u2", "h")


# Equal work for unknown and known accounts


def test_basic_with_unknown_and_known_emails_runs_one_verification_each(
    build: Any, verifications: list[str]
) -> None:
    client = build()
    agent = Factory(client).agent()
    before = len(verifications)
    for email in (agent.email, "ghost@nowhere.example"):
        r = client.get("/projects", headers=basic(email, "wrong pass"))
        assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    known, unknown = verifications[before:]
    assert known != unknown
    assert known.rsplit("$", 2)[0] == unknown.rsplit("$", 2)[0]  # same algorithm and costs


# Hashing off the event loop, with a bounded queue


class BlockingHasher:
    """Stands in for Argon2: each verification waits until the test lets it finish."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def hash(self, password: str) -> str:
        return "$fake$" + password

    def verify(self, stored: str, password: str) -> bool:
        self.started.release()
        assert self.release.wait(timeout=10)
        return stored == "$fake$" + password


def test_hashing_runs_off_the_loop_and_a_full_queue_is_refused() -> None:
    async def scenario() -> None:
        passwords = Passwords(memory_kib=1024, time_cost=1, concurrency=1, queue=1)
        hasher = BlockingHasher()
        passwords._hasher = hasher  # type: ignore[assignment]
        try:
            running = asyncio.create_task(passwords.verify("$fake$right", "right"))
            waiting = asyncio.create_task(passwords.verify("$fake$right", "wrong"))
            await asyncio.to_thread(hasher.started.acquire)
            # One hash holds the only slot, one waits: the loop still runs everything else.
            await asyncio.wait_for(asyncio.sleep(0.01), timeout=1)
            with pytest.raises(ServiceUnavailable) as busy:
                await passwords.verify("$fake$right", "right")
            assert busy.value.code == "password_checks_busy"
            assert busy.value.status == 503 and busy.value.headers["Retry-After"] == "1"
            hasher.release.set()
            assert await running is True and await waiting is False
            assert await passwords.verify("$fake$right", "right") is True  # room again
        finally:
            hasher.release.set()
            passwords.close()

    asyncio.run(scenario())
