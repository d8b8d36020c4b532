"""The per-process cache of projects and agents' memberships: bounded, expiring, evicted on
change, suspended while the broker's link is down, and handing out copies."""

from __future__ import annotations

import asyncio
from typing import Any

from frontdesk.auth.project_cache import ProjectCache
from frontdesk.clock import FakeClock
from frontdesk.storage.project_users import ProjectUserRecord
from frontdesk.storage.projects import ProjectRecord

PID = "p" * 24


def _project(project_id: str = PID, **settings: Any) -> ProjectRecord:
    return {"id": project_id, "name": "Acme", "settings": {"allow_anonymous": True, **settings},
            "created_by": None, "created_at": 1, "updated_at": 1}


def _member(user_id: str, role: str = "agent", project_id: str = PID) -> ProjectUserRecord:
    return {"id": "m-" + user_id, "project_id": project_id, "user_id": user_id, "role": role,
            "user_available": 1, "max_assigned_chat": None, "presence_away": 0,
            "notifications": {}, "profile": {}, "attributes": {"tags": ["a"]},
            "invited_by": None, "created_at": 1, "updated_at": 1}


def test_entries_expire_after_the_ttl() -> None:
    clock = FakeClock(1000.0)
    cache = ProjectCache(clock, ttl=30)
    cache.put_project(_project(), generation=cache.generation)
    cache.put_membership(_member("u1"), generation=cache.generation)
    clock.advance(29)
    assert cache.project(PID) == _project() and cache.membership(PID, "u1") == _member("u1")
    clock.advance(2)
    assert cache.project(PID) is None and cache.membership(PID, "u1") is None
    assert len(cache) == 0


def test_a_caller_changing_what_it_got_changes_nothing_cached() -> None:
    cache = ProjectCache(FakeClock(), ttl=30)
    cache.put_project(_project(), generation=cache.generation)
    cache.put_membership(_member("u1"), generation=cache.generation)
    got = cache.project(PID)
    assert got is not None
    got["settings"]["allow_anonymous"] = False
    got["name"] = "changed"
    member = cache.membership(PID, "u1")
    assert member is not None
    member["role"] = "owner"
    member["attributes"]["tags"].append("b")
    assert cache.project(PID) == _project()
    assert cache.membership(PID, "u1") == _member("u1")


def test_eviction_forgets_only_what_changed() -> None:
    cache = ProjectCache(FakeClock(), ttl=30)
    for record in (_project(), _project("q" * 24)):
        cache.put_project(record, generation=cache.generation)
    for user in ("u1", "u2"):
        cache.put_membership(_member(user), generation=cache.generation)
    cache.evict(PID, "u1")
    assert cache.membership(PID, "u1") is None and cache.membership(PID, "u2") is not None
    assert cache.project(PID) is not None
    for project_id in (PID, "q" * 24):
        asyncio.run(cache.read_keys(project_id, _returning([])))
    cache.evict(PID, "u2")
    assert cache.keys(PID) == []  # a membership's change leaves the keys
    cache.evict(PID)
    assert cache.project(PID) is None and cache.project("q" * 24) is not None
    assert cache.keys(PID) is None and cache.keys("q" * 24) == []
    assert cache.membership(PID, "u2") is None and cache.membership(PID, "u1") is None


def test_any_change_of_an_agent_forgets_the_available_agents() -> None:
    """Routing chooses from the cached available agents: a membership's change (an agent
    away, a role, a removal, a new agent) or a project-wide one forgets them."""
    cache = ProjectCache(FakeClock(), ttl=30)
    agents = [{"user_id": "u1", "max_assigned_chat": None, "created_at": 1}]
    for evict in (lambda: cache.evict(PID, "someone else"), lambda: cache.evict(PID)):
        for project_id in (PID, "q" * 24):
            asyncio.run(cache.read_available_agents(project_id, _returning(agents)))
        assert cache.available_agents(PID) == agents
        evict()
        assert cache.available_agents(PID) is None
        assert cache.available_agents("q" * 24) == agents  # another project's stay


def test_a_read_that_began_before_an_eviction_is_not_put_back() -> None:
    """A call read the old row from the database while a change committed and evicted."""
    cache = ProjectCache(FakeClock(), ttl=30)
    began = cache.generation
    cache.evict(PID, "u1")
    cache.put_membership(_member("u1"), generation=began)
    cache.put_project(_project(), generation=began)
    assert cache.membership(PID, "u1") is None and cache.project(PID) is None
    cache.put_project(_project(), generation=cache.generation)
    assert cache.project(PID) is not None


def test_visitors_memberships_are_never_cached() -> None:
    cache = ProjectCache(FakeClock(), ttl=30)
    for role in ("guest", "user"):
        cache.put_membership(_member("v-" + role, role=role), generation=cache.generation)
        assert cache.membership(PID, "v-" + role) is None
    assert len(cache) == 0


def test_size_is_bounded_least_recently_used_first_and_a_zero_ttl_disables_it() -> None:
    cache = ProjectCache(FakeClock(), ttl=30, max_entries=3)
    for i in range(3):
        cache.put_membership(_member(f"u{i}"), generation=cache.generation)
    assert cache.membership(PID, "u0") is not None  # used: now the most recent
    cache.put_membership(_member("u3"), generation=cache.generation)
    assert len(cache) == 3
    assert cache.membership(PID, "u1") is None and cache.membership(PID, "u0") is not None
    off = ProjectCache(FakeClock(), ttl=0)
    off.put_project(_project(), generation=off.generation)
    assert off.project(PID) is None and len(off) == 0


def test_while_suspended_nothing_is_cached_and_resuming_starts_empty() -> None:
    """Suspended while the broker's link is down: changes made elsewhere cannot arrive."""
    cache = ProjectCache(FakeClock(), ttl=30)
    cache.put_project(_project(), generation=cache.generation)
    cache.suspend()
    assert cache.project(PID) is None
    cache.put_membership(_member("u1"), generation=cache.generation)
    assert cache.membership(PID, "u1") is None and len(cache) == 0
    cache.resume()
    assert cache.project(PID) is None  # it may have changed meanwhile
    cache.put_project(_project(), generation=cache.generation)
    assert cache.project(PID) is not None


def _returning(value: Any) -> Any:
    """A read for the cache's read-through that answers ``value``."""

    async def read() -> Any:
        return value

    return read
