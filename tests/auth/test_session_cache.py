"""The per-process cache of verified session tokens: bounded, expiring, evicted on revocation."""

from __future__ import annotations

from frontdesk.auth.principals import Agent, AnonymousVisitor
from frontdesk.auth.session_cache import SessionCache
from frontdesk.clock import FakeClock


def _agent(jti: str) -> Agent:
    return Agent(user_id="u" * 24, email="a@x.example", firstname="A", lastname="B", jti=jti)


def test_entries_expire_with_the_token_or_the_ttl_whichever_is_first() -> None:
    clock = FakeClock(1000.0)
    cache = SessionCache(clock, ttl=30)
    cache.put("short", _agent("j1"), expires_at=1010)
    cache.put("long", _agent("j2"), expires_at=10_000)
    clock.advance(9)
    assert cache.get("short") is not None and cache.get("long") is not None
    clock.advance(2)
    assert cache.get("short") is None  # its token expired
    clock.advance(20)
    assert cache.get("long") is None  # the ttl passed


def test_revocation_evicts_every_token_of_the_session() -> None:
    cache = SessionCache(FakeClock(), ttl=30)
    visitor = AnonymousVisitor(visitor_id="v", project_id="p" * 24, jti="j")
    cache.put("token-before-refresh", visitor, expires_at=2_000_000_000)
    cache.put("token-after-refresh", visitor, expires_at=2_000_000_000)
    cache.put("someone-else", _agent("other"), expires_at=2_000_000_000)
    cache.evict("j")
    assert cache.get("token-before-refresh") is None and cache.get("token-after-refresh") is None
    assert cache.get("someone-else") is not None


def test_size_is_bounded_and_a_zero_ttl_disables_it() -> None:
    cache = SessionCache(FakeClock(), ttl=30, max_entries=3)
    for i in range(5):
        cache.put(f"t{i}", _agent(f"j{i}"), expires_at=2_000_000_000)
    assert len(cache) == 3 and cache.get("t0") is None and cache.get("t4") is not None
    off = SessionCache(FakeClock(), ttl=0)
    off.put("t", _agent("j"), expires_at=2_000_000_000)
    assert off.get("t") is None


def test_while_suspended_nothing_is_cached_and_resuming_starts_empty() -> None:
    """Suspended while the broker's link is down: revocations from elsewhere cannot arrive."""
    cache = SessionCache(FakeClock(), ttl=30)
    cache.put("before-the-drop", _agent("j1"), expires_at=2_000_000_000)
    cache.suspend()
    assert cache.get("before-the-drop") is None
    cache.put("during-the-drop", _agent("j2"), expires_at=2_000_000_000)
    assert cache.get("during-the-drop") is None and len(cache) == 0
    cache.resume()
    assert cache.get("before-the-drop") is None  # it may have been revoked meanwhile
    cache.put("after", _agent("j3"), expires_at=2_000_000_000)
    assert cache.get("after") is not None
