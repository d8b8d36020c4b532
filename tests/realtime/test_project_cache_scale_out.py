"""A change of access made through one server process holds at once on another, whose project
cache had the old project, membership or keys (PostgreSQL + Redis), and while a process's Redis
subscription is down its cache is off and it reads the database; a change published while
Redis was unreachable is sent again."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import REDIS_URL, Factory, sign_customer_token
from tests.realtime.live_api import Api, Session, two_apis
from tests.realtime.served import shared_env, two_served
from tests.test_project_cache import _cached, _requests, _services

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Process B waits this long before resubscribing after a drop: the window in which it must
# still refuse.
RESUBSCRIBE_DELAY = 3.0
# How long process B may take to hear of a change made through process A. The cache keeps
# entries 30 s: a missed eviction cannot pass within this.
AT_ONCE = 2.0


@dataclass
class Servers:
    url_a: str
    url_b: str
    pid_b: int


@pytest.fixture
def servers(tmp_path: Path, pg_schema: str) -> Iterator[Servers]:
    env = shared_env(pg_schema, redis_resubscribe_delay=str(RESUBSCRIBE_DELAY),
                     project_cache_seconds="30")
    with two_served(tmp_path, env) as (first, second):
        yield Servers(first.url, second.url, second.pid)


async def _refused_soon(api: Api, method: str, path: str, token: str, code: str,
                        **kw: Any) -> None:
    deadline = time.monotonic() + AT_ONCE
    while True:
        r = await api.http.request(method, path, headers={"Authorization": token}, **kw)
        if r.status_code == 403 and r.json()["code"] == code:
            return
        assert time.monotonic() < deadline, f"still {r.status_code} {r.text}"
        await asyncio.sleep(0.02)


async def _member(api_a: Api, owner: Session, pid: str, role: str) -> tuple[Session, str]:
    agent = await api_a.agent()
    invite = await api_a.call("POST", f"/{pid}/project_users/invite", owner.token,
                              json={"email": agent.email, "role": role})
    await api_a.call("POST", "/auth/invitations/accept", agent.token,
                     json={"token": invite["token"]})
    [member] = await api_a.call("GET", f"/{pid}/project_users/users/{agent.user_id}",
                                agent.token)
    return agent, str(member["_id"])


async def _warm(api: Api, pid: str, session: Session) -> None:
    for _ in range(3):  # the first call reads and caches; the next ones read the cache
        await api.call("GET", f"/projects/{pid}", session.token)


def test_a_change_through_one_process_holds_at_once_on_the_other(servers: Servers) -> None:
    asyncio.run(_changes_reach_the_other_process(servers))


async def _changes_reach_the_other_process(servers: Servers) -> None:
    async with two_apis(servers.url_a, servers.url_b) as (api_a, api_b):
        owner = await api_a.agent()
        pid = await api_a.project(owner)
        admin, puid = await _member(api_a, owner, pid, "admin")
        await _warm(api_b, pid, admin)
        await api_b.call("PUT", f"/projects/{pid}", admin.token, json={"name": "By the admin"})

        await api_a.call("PUT", f"/{pid}/project_users/{puid}", owner.token,
                         json={"role": "agent"})
        await _refused_soon(api_b, "PUT", f"/projects/{pid}", admin.token, "insufficient_role",
                            json={"name": "Again"})
        await _warm(api_b, pid, admin)
        await api_a.call("DELETE", f"/{pid}/project_users/{puid}", owner.token)
        await _refused_soon(api_b, "GET", f"/projects/{pid}", admin.token, "not_a_member")

        visitor = await api_b.visitor(pid)
        for _ in range(3):
            await api_b.call("GET", f"/{pid}/requests/me", visitor.token)
        await api_a.call("PUT", f"/projects/{pid}", owner.token,
                         json={"settings": {"allow_anonymous": False}})
        await _refused_soon(api_b, "GET", f"/{pid}/requests/me", visitor.token,
                            "anonymous_not_allowed")


def test_a_key_retired_through_one_process_stops_verifying_at_once_on_the_other(
    servers: Servers,
) -> None:
    asyncio.run(_retired_key_reaches_the_other_process(servers))


async def _retired_key_reaches_the_other_process(servers: Servers) -> None:
    async with two_apis(servers.url_a, servers.url_b) as (api_a, api_b):
        owner = await api_a.agent()
        pid = await api_a.project(owner)
        key = await api_a.call("POST", f"/{pid}/keys/generate", owner.token)

        def signin(user: str) -> Any:
            token = sign_customer_token(pid, key["jwtSecret"], kid=key["kid"], _id=user)
            return api_b.http.post("/auth/signinWithCustomToken",
                                   headers={"Authorization": "JWT " + token})

        for i in range(3):  # the first sign-in reads and caches the keys; the next ones not
            assert (await signin(f"before-{i}")).status_code == 200
        await api_a.call("DELETE", f"/{pid}/keys/{key['kid']}?grace=0", owner.token)
        deadline = time.monotonic() + AT_ONCE
        while (r := await signin("after")).status_code == 200:
            assert time.monotonic() < deadline, "the retired key still verifies on the other"
            await asyncio.sleep(0.02)
        assert (r.status_code, r.json()["code"]) == (401, "unknown_kid")


def _pubsub_connections(client: redis.Redis, pid: int) -> list[dict[str, str]]:
    return [c for c in client.client_list(_type="pubsub") if c["name"] == f"frontdesk-{pid}"]


def test_while_its_subscription_is_down_a_process_reads_access_from_the_database(
    servers: Servers,
) -> None:
    asyncio.run(_unlinked(servers))


async def _unlinked(servers: Servers) -> None:
    async with two_apis(servers.url_a, servers.url_b) as (api_a, api_b):
        owner = await api_a.agent()
        pid = await api_a.project(owner)
        agent, puid = await _member(api_a, owner, pid, "agent")
        await _warm(api_b, pid, agent)

        admin = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            (subscription,) = _pubsub_connections(admin, servers.pid_b)
            admin.client_kill_filter(_id=subscription["id"])
            deadline = time.monotonic() + 5
            while _pubsub_connections(admin, servers.pid_b):  # B has noticed the drop
                assert time.monotonic() < deadline, "B kept its Redis subscription"
                await asyncio.sleep(0.02)
            started = time.monotonic()
            await api_a.call("DELETE", f"/{pid}/project_users/{puid}", owner.token)
            # B never hears of the removal, yet refuses: it reads the membership.
            r = await api_b.http.get(f"/projects/{pid}",
                                     headers={"Authorization": agent.token})
            assert (r.status_code, r.json()["code"]) == (403, "not_a_member")
            assert not _pubsub_connections(admin, servers.pid_b)
            assert time.monotonic() - started < RESUBSCRIBE_DELAY
        finally:
            admin.close()


def test_the_cache_is_off_while_the_link_is_down_and_on_again_after(
    app_factory: Any, database_url: str
) -> None:
    """In-process, over a real Redis: the broker's link watchers suspend and resume it."""
    shared_env(database_url)  # skips without Redis (fails in CI)
    make = Factory(app_factory(redis_url=REDIS_URL, redis_resubscribe_delay=0.5))
    project = make.project()
    _cached(make, project, project.owner)
    cache = _services(make).project_cache
    admin = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        (subscription,) = _pubsub_connections(admin, os.getpid())
        admin.client_kill_filter(_id=subscription["id"])
        deadline = time.monotonic() + 5
        while len(cache):  # suspended: emptied
            assert time.monotonic() < deadline, "the cache was not suspended"
            time.sleep(0.02)
        assert _requests(make, project, project.owner).status_code == 200
        assert len(cache) == 0 and cache.project(project.id) is None
        deadline = time.monotonic() + 10
        while not _pubsub_connections(admin, os.getpid()):
            assert time.monotonic() < deadline, "no resubscription"
            time.sleep(0.05)
        deadline = time.monotonic() + 5
        while cache.project(project.id) is None:  # resumed once the link is back
            assert time.monotonic() < deadline, "the cache did not resume"
            assert _requests(make, project, project.owner).status_code == 200
            time.sleep(0.05)
        assert cache.membership(project.id, project.owner.id) is not None
    finally:
        admin.close()
