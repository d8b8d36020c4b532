"""A visitor's new session is cached when its sign-in commits, exactly as verifying the token
would cache it, so the visitor's first calls skip the signature check and the session read;
signing out still ends it at once."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.actions.access import _verify_session_token
from frontdesk.storage import project_users, requests, sessions
from tests.conftest import Factory


def _cached_and_verified(make: Factory, token: str) -> tuple[Any, Any]:
    services = make.client.app.state.services  # type: ignore[attr-defined]
    raw = token.removeprefix("JWT ")
    cached = services.session_cache.get(raw)
    verified, _ = make.client.portal.call(  # type: ignore[union-attr]
        _verify_session_token, services, raw)
    return cached, verified


@pytest.mark.parametrize("authenticated", [False, True])
def test_the_cached_visitor_is_the_verified_one(
    make: Factory, authenticated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make.project()
    visitor = make.visitor(project, authenticated=authenticated, firstname="Ada",
                           lastname="Lovelace", email="ada@example.com")
    cached, verified = _cached_and_verified(make, visitor.token)
    assert cached is not None and cached == verified
    # The first call reads no session row but the first message's own read of the
    # session's proof (joined to the membership's).
    reads: list[str] = []
    real_session, real_member = sessions.get_session, project_users.get_visitor_membership

    async def session(q: Any, jti: str) -> Any:
        reads.append(jti)
        return await real_session(q, jti)

    async def member(q: Any, project_id: str, user_id: str, jti: str) -> Any:
        reads.append(jti)
        return await real_member(q, project_id, user_id, jti)

    real_ahead = requests.read_conversation_or_member

    async def ahead(q: Any, project_id: str, request_id: str, user_id: str, jti: str) -> Any:
        read = await real_ahead(q, project_id, request_id, user_id, jti)
        if read[1] is not None:  # on PostgreSQL, with the conversation's absence
            reads.append(jti)
        return read

    monkeypatch.setattr(sessions, "get_session", session)
    monkeypatch.setattr(project_users, "get_visitor_membership", member)
    monkeypatch.setattr(requests, "read_conversation_or_member", ahead)
    assert visitor.send(visitor.new_request_id(), "hello").status_code == 200
    assert reads == [cached.jti]


def test_signing_out_ends_a_session_cached_at_sign_in(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    r = make.client.post("/auth/logout", headers=visitor.headers)
    assert r.status_code == 200, r.text
    r = make.client.get(f"/{project.id}/requests/me", headers=visitor.headers)
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
