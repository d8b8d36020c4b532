"""Abuse limits: per client address and per project, 429 with Retry-After, counted in Redis
and shared by every process when Redis is configured."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter

from frontdesk.actions.limits import RateLimits, SweptMemoryStorage
from frontdesk.errors import RateLimited
from frontdesk.settings import Settings
from frontdesk.storage.database import open_database
from tests.conftest import REDIS_URL, Factory, LimitsTime, require_service
from tests.live import free_port
from tests.realtime.live_api import Session, api_on
from tests.realtime.served import served, shared_env, two_served


def test_a_limit_allows_its_rate_in_any_moving_minute(limits_time: LimitsTime) -> None:
    limits = RateLimits(Settings(signin_rate_per_ip=3, signin_rate_per_project=0))

    async def allowed(ip: str) -> bool:
        try:
            await limits.check_anonymous_signin(ip, "p")
        except RateLimited as refused:
            assert refused.code == "rate_limited"
            return False
        return True

    async def scenario() -> list[bool]:
        seen = [await allowed("ip") for _ in range(2)]
        limits_time.advance(30)
        seen += [await allowed("ip") for _ in range(2)]  # three in the last minute already
        seen.append(await allowed("other-ip"))
        limits_time.advance(31)  # the first two left the window, the third has not
        seen += [await allowed("ip") for _ in range(3)]
        return seen

    assert asyncio.run(scenario()) == [True, True, True, False, True, True, True, False]


def test_an_ipv6_client_is_counted_by_its_64_block() -> None:
    limits = RateLimits(Settings(signin_rate_per_ip=2, signin_rate_per_project=0))

    async def answers() -> list[bool]:
        seen = []
        for ip in ("2001:db8:0:1::1", "2001:db8:0:1:ffff::2", "2001:db8:0:1::3",
                   "2001:db8:0:2::1", "198.51.100.1", "::ffff:198.51.100.2",
                   "::ffff:198.51.100.3", "198.51.100.2", "198.51.100.2"):
            try:
                await limits.check_anonymous_signin(ip, "p")
                seen.append(True)
            except RateLimited:
                seen.append(False)
        return seen

    # IPv4 clients seen as IPv4-mapped IPv6 addresses are counted apart, as IPv4.
    assert asyncio.run(answers()) == [True, True, False, True, True, True, True, True, False]


def test_the_memory_storage_sweeps_once_for_many_checks() -> None:
    storage = SweptMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(1000, namespace="sweep")

    async def sweeps() -> int:
        started = set()
        for n in range(20):
            await limiter.hit(item, f"key-{n}")
            started.add(storage.timer)
            await asyncio.sleep(0.02)  # long enough for a started sweep to finish
        return len(started)

    # The library's own hook is overridden (an upgrade renaming it would start 20 sweeps).
    assert asyncio.run(sweeps()) == 1


def test_anonymous_signins_are_limited_per_ip(app_factory: Any, limits_time: LimitsTime) -> None:
    make = Factory(app_factory(signin_rate_per_ip=2))
    project = make.project()
    body = {"id_project": project.id}
    for _ in range(2):
        assert make.client.post("/auth/signinAnonymously", json=body).status_code == 200
    refused = make.client.post("/auth/signinAnonymously", json=body)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.json() == {"success": False, "code": "rate_limited",
                              "message": "too many anonymous sign-ins; retry in 60 s"}
    limits_time.advance(60)
    assert make.client.post("/auth/signinAnonymously", json=body).status_code == 200


def test_visitor_messages_are_limited_per_project(app_factory: Any) -> None:
    make = Factory(app_factory(message_rate_per_project=2))
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "one").status_code == 200
    assert visitor.send(rid, "two").status_code == 200
    refused = visitor.send(rid, "three")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "retry-after" in refused.headers
    history = make.client.get(f"/{project.id}/requests/{rid}/messages", headers=visitor.headers)
    assert [m["text"] for m in history.json()] == ["one", "two"]  # nothing written
    agent_reply = make.client.post(f"/{project.id}/requests/{rid}/messages",
                                   json={"text": "agents are not limited"},
                                   headers=project.owner.headers)
    assert agent_reply.status_code == 200


def test_while_redis_is_unreachable_limits_hold_per_process() -> None:
    closed_port = free_port()
    limits = RateLimits(Settings(
        signin_rate_per_ip=2, redis_url=f"redis://127.0.0.1:{closed_port}/0",
    ))

    async def answers() -> list[str]:
        seen = []
        for _ in range(3):
            try:
                await limits.check_anonymous_signin("10.0.0.1", "p")
                seen.append("allowed")
            except RateLimited as refused:
                seen.append(refused.code)
        await limits.close()
        return seen

    assert asyncio.run(answers()) == ["allowed", "allowed", "rate_limited"]


@pytest.mark.redis
def test_limits_are_shared_by_the_processes_of_one_redis() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    settings = Settings(
        signin_rate_per_ip=3, redis_url=REDIS_URL, redis_channel=f"t:{uuid.uuid4().hex}"
    )

    async def answers() -> list[bool]:
        processes = [RateLimits(settings), RateLimits(settings)]
        seen = []
        for n in range(4):
            try:
                await processes[n % 2].check_anonymous_signin("10.0.0.1", "p")
                seen.append(True)
            except RateLimited:
                seen.append(False)
        for limits in processes:
            await limits.close()
        return seen

    assert asyncio.run(answers()) == [True, True, True, False]


def test_a_served_process_ignores_forwarding_headers_from_an_untrusted_peer(
    tmp_path: Path,
) -> None:
    # The test calls from 127.0.0.1, which is not trusted here: neither frontdesk nor uvicorn
    # may take the client's address from the header it sends.
    settings = {"trusted_proxies": "192.0.2.1", "signin_rate_per_ip": "2"}
    with served(tmp_path, **settings) as server:
        owner, project_id = asyncio.run(_owner_and_project(server.url))
        answers = [
            httpx.post(server.url + "/auth/signinAnonymously", json={"id_project": project_id},
                       headers={"X-Forwarded-For": f"203.0.113.{n}",
                                "Forwarded": f"for=203.0.113.{n}"}).status_code
            for n in range(3)
        ]
        assert answers == [200, 200, 429]
        audit = httpx.get(server.url + f"/{project_id}/audit?type=signin.anonymous",
                          headers={"Authorization": owner.token}).json()["events"]
        assert [event["ip"] for event in audit] == ["127.0.0.1", "127.0.0.1"]


# Two processes sharing PostgreSQL and Redis, behind a trusted proxy


@pytest.fixture
def two_processes(tmp_path: Path, pg_schema: str) -> Iterator[tuple[str, str]]:
    """Two ``frontdesk serve`` processes on one database and one Redis, trusting 127.0.0.1
    (the test) as their proxy, five anonymous sign-ins a minute per client address."""
    env = shared_env(pg_schema, trusted_proxies="127.0.0.1", signin_rate_per_ip="5")
    with two_served(tmp_path, env) as (first, second):
        yield first.url, second.url


@pytest.mark.postgres
@pytest.mark.redis
def test_a_client_address_is_limited_across_processes(
    two_processes: tuple[str, str], pg_schema: str
) -> None:
    first, second = two_processes
    owner, project_id = asyncio.run(_owner_and_project(first))

    def sign_in(url: str, forwarded_for: str) -> httpx.Response:
        return httpx.post(url + "/auth/signinAnonymously", json={"id_project": project_id},
                          headers={"X-Forwarded-For": forwarded_for})

    spread = [sign_in(url, "203.0.113.7") for url in (first, second, first, second, first)]
    assert [r.status_code for r in spread] == [200] * 5
    for url in (first, second):  # the sixth is refused whichever process serves it
        refused = sign_in(url, "203.0.113.7")
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert sign_in(second, "203.0.113.8").status_code == 200  # another client is unaffected
    # Only the proxy's own entry is believed: what the client put left of it is not.
    assert sign_in(first, "198.51.100.1, 203.0.113.7").status_code == 429

    audit = httpx.get(first + f"/{project_id}/audit?type=signin.anonymous&limit=50",
                      headers={"Authorization": owner.token})
    events = audit.json()["events"]
    assert sorted(event["ip"] for event in events) == ["203.0.113.7"] * 5 + ["203.0.113.8"]
    recorded = asyncio.run(_session_addresses(pg_schema))
    assert sorted(recorded) == ["203.0.113.7"] * 5 + ["203.0.113.8"]


async def _session_addresses(database_url: str) -> list[str]:
    db = await open_database(database_url)
    try:
        rows = await db.fetch_all("SELECT ip FROM sessions WHERE kind = 'guest'")
    finally:
        await db.close()
    return [row["ip"] for row in rows]


async def _owner_and_project(url: str) -> tuple[Session, str]:
    async with api_on(url) as api:
        owner = await api.agent()
        return owner, await api.project(owner)
